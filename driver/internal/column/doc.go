// Package column turns the values of one column of a CARTO SQL API answer into Go values, as the
// answer's fields object types the column: the kinds a column can be, the conversion of a row
// record's value (numbers read while the answer downloaded, dates, bytea, JSON, geometries), and
// the boxing of values into driver.Value without an allocation each.
package column
