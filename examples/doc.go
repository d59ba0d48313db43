// Package examples holds no code of its own: its subdirectories are runnable programs, each doing
// one everyday CARTO task, and README.md lists them beside the carto-python scripts they replace.
// The package's tests check that list against the directories and run every example, as the
// README writes it, against cartolocal.
package examples
