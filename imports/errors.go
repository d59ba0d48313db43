package imports

import "fmt"

// ImportError is a failed import, or a sync table whose last run failed, with CARTO's error code
// and texts (lib/cartodb/import_error_codes.rb).
type ImportError struct {
	// ID is the import's id (a sync's id for a sync).
	ID string
	// Code is CARTO's error code: 1002 unsupported file, 1005 empty file, 1010 nothing to import
	// (a request with no file, URL or connector; CARTO has no texts for it), 1100 URL not found,
	// 2001 unable to load, 3007 not GeoJSON, 6669 too many imports, 6671 stuck, 8001 over quota,
	// 99999 unknown (also a .carto file whose map cannot be read), ...
	Code int
	// Title and Advice are CARTO's title and what_about for the code; Source says whose fault
	// it is: "user", "cartodb" or "external".
	Title  string
	Advice string
	Source string
	// HTTPStatus is the status the source URL answered with, when it was not 2xx.
	HTTPStatus int
}

func (e *ImportError) Error() string {
	if e.Title == "" && e.Advice == "" {
		return fmt.Sprintf("imports: %s failed with error %d", e.ID, e.Code)
	}
	if e.Title == "" {
		return fmt.Sprintf("imports: %s failed with error %d: %s", e.ID, e.Code, e.Advice)
	}
	return fmt.Sprintf("imports: %s failed with error %d: %s", e.ID, e.Code, e.Title)
}
