package importer

import (
	"errors"
	"fmt"
)

// ErrorText is what CARTO says about an error code: get_error_text of an import.
type ErrorText struct {
	Title     string
	WhatAbout string
	Source    string // user, cartodb or external
}

// Error is a failed import step with CARTO's error code.
type Error struct {
	Code int
	Err  error
}

func (e *Error) Error() string {
	if e.Err == nil {
		return fmt.Sprintf("import error %d: %s", e.Code, Text(e.Code).Title)
	}
	return fmt.Sprintf("import error %d: %s: %v", e.Code, Text(e.Code).Title, e.Err)
}

func (e *Error) Unwrap() error { return e.Err }

// Fail wraps err (which may be nil) with code.
func Fail(code int, err error) error { return &Error{Code: code, Err: err} }

// Failf is Fail with a formatted cause.
func Failf(code int, format string, args ...any) error {
	return &Error{Code: code, Err: fmt.Errorf(format, args...)}
}

// CodeOf is the import error code of err: its *Error's, else 99999 (Unknown).
func CodeOf(err error) int {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return CodeUnknown
}

// The codes the pipeline raises by name.
const (
	CodeDownload          = 1001
	CodeUnsupported       = 1002
	CodeDecompression     = 1003
	CodeEmptyFile         = 1005
	CodeNotAFile          = 1010 // no entry in CARTO's table of texts
	CodeDatasourceConnect = 1012
	CodeAllSkipped        = 1022
	CodeNotFound          = 1100
	CodeForbidden         = 1101
	CodeUnknownServer     = 1102
	CodeConnector         = 1500
	CodeConnectorDisabled = 1501
	CodeConnectorParams   = 1502
	CodeLoad              = 2001
	CodeTooManyColumns    = 2004
	CodeDuplicatedColumn  = 2005
	CodeEncoding          = 2006
	CodeCartodbfy         = 2010
	CodeIncompatible      = 2012
	CodeCannotOverwrite   = 2013
	CodeInvalidGeoJSON    = 3007
	CodeCollection        = 3201
	CodeTimeout           = 6667
	CodeConcurrent        = 6669
	CodeStuck             = 6671
	CodeQuota             = 8001
	CodeSQL               = 8003
	CodeUnknown           = 99999
)

// Text returns CARTO's texts for code (lib/cartodb/import_error_codes.rb); an unknown code gets
// the texts of 99999.
func Text(code int) ErrorText {
	if t, ok := errorTexts[code]; ok {
		return t
	}
	return errorTexts[CodeUnknown]
}

// Lookup returns CARTO's texts for code as its get_error_text does: a code its table lacks
// (1010, raised for a source that is no file) has none, and the import shows null.
func Lookup(code int) (ErrorText, bool) {
	t, ok := errorTexts[code]
	return t, ok
}

const upgrade = "To upgrade your account, go to your Dashboard and click Settings. Click 'Upgrade your server'. Follow the directions for choosing a larger size and setting up your payment information."

// errorTexts are CARTO's, verbatim: clients show them to people, and tests compare them.
var errorTexts = map[int]ErrorText{
	1:     {"Install error", "Something seems to be wrong with the CARTO install. Please <a href='mailto:support@cartob.com?subject=Install error'>contact us</a> and we'll try to fix that quickly.", "cartodb"},
	1000:  {"File I/O error", "Something seems to be wrong with the file you uploaded. Check that it is loading fine locally and try uploading it again.", "cartodb"},
	1001:  {"Download error", "The remote URL returned an error. Please verify your file is available at that URL.", "user"},
	1002:  {"Unsupported/Unrecognized file type", "Should we support this filetype? Let us know in our <a href='mailto:support@carto.com'>support email</a>!", "user"},
	1003:  {"Decompression error", "The archive you uploaded didn't seem to unpack properly. Try recreating it from the original files again and uploading the new version.", "user"},
	1004:  {"XLS/XLSX Error", "The XLS/XLSX archive could not be opened or contains data that cannot be imported. Try exporting it into CSV and uploading the CSV instead.", "user"},
	1005:  {"Empty file", "The file appears to have no processable information. Double check that the file is indeed correct and it contains supported data. If everything appears fine, try uploading it again or <a href='mailto:support@carto.com?subject=Empty file'>contact us</a>.", "user"},
	1006:  {"Invalid SHP file", "Your file appears broken. Double check that all the necessary parts of the file are included in your ZIP archive (including .shp, .prj etc.). Also, try opening the file locally using QGIS or another tool. If everything appears okay, <a href='mailto:support@carto.com?subject=Invalid SHP file'>contact us</a>.", "user"},
	1007:  {"Too many nodes", "You requested too many nodes. Either request a smaller area, or use planet.osm.", "user"},
	1008:  {"GDrive access forbidden", "Google denied access to GDrive. If you use Google Apps contact your administrator to allow third party Drive applications and try again.", "user"},
	1009:  {"Twitter Server Error", "There was an error connecting to Twitter service to retrieve your tweets. The server might be temporally unavaliable, please try again later.", "external"},
	1011:  {"Error retrieving data from datasource", "There was an error retrieving data from the datasource. Check that the file/data is still present.", "user"},
	1012:  {"Error connecting to datasource", "There was an error trying to connect to the datasource. If this problem stays, please contact <a href='mailto:support@carto.com?subject=Error connecting to datasource'>support@carto.com</a>.", "external"},
	1013:  {"Invalid ArcGIS version", "The specified ArcGIS server runs an unsupported version. Supported versions are 10.1 onwards.", "user"},
	1014:  {"Invalid name", "File name is not valid. Maybe too many tables with similar names. Please change file name and try again.", "user"},
	1015:  {"No results", "Query was correct but returned no results, please change the parameters and run it again.", "user"},
	1016:  {"Dropbox permission revoked", "CARTO has not permission to access your files at Dropbox. Please import file again.", "user"},
	1017:  {"GDrive file was deleted", "GDrive file was removed and can't be synced, please import file again.", "user"},
	1018:  {"File is password protected", "File is password protected and can't be imported. Please remove password protection or create a new compressed file without password and try again.", "user"},
	1019:  {"Too Many Layers", "The file has too many layers. It can have 50 as maximum.", "user"},
	1020:  {"Download timeout", "Data download timed out. Check the source is not running slow and/or try again.", "user"},
	1021:  {"Box permission revoked", "CARTO has not permission to access your files at Box. Please import file again.", "user"},
	1022:  {"All tables were skipped", "You set 'skip' collision strategy and all tables already exist, so nothing was imported.", "user"},
	1023:  {"ArcGIS server misconfiguration", `We could not import your data from the ArcGIS server. Please contact your ArcGIS server administrator and ensure that the server has the "execute queries capability" enabled.`, "user"},
	1100:  {"Download file not found", "Provided URL doesn't return a file (error 404). Please check that URL is still valid and that you can download the file and try again.", "user"},
	1101:  {"Forbidden file URL", "Provided URL returns authentication error. Maybe it's private, or requires user and password. Please provide a valid, public URL and try again.", "user"},
	1102:  {"Unknown server URL", "Provided URL can't be resolved to a known server. Maybe that URL is wrong or behind a private network. Please provide a valid, public URL and try again.", "user"},
	1103:  {"Partial file error", "The resource you are trying to reach is accessible but the file transfer was shorter or larger than expected. This happens when the server first reports an expected transfer size, and then delivers data that doesn't match the previously given size. Please, try again.", "user"},
	1500:  {"Connector error", "The connector used to fetch the resourced failed.", "user"},
	1501:  {"Connectors disabled", "The type of connector you were trying to use is not enabled", "user"},
	1502:  {"Connector invalid parameters", "The connector couldn't be configured because the parameters were not valid.", "user"},
	2001:  {"Unable to load data", "We couldn't load data from your file into the database.  Please <a href='mailto:support@carto.com?subject=Import load error'>contact us</a> and we will help you to load your data.", "user"},
	2002:  {"Encoding detection error", "We couldn't detect the encoding of your file. Please, try saving your file with encoding UTF-8 or <a href='mailto:support@cartodb?subject=Encoding error in import'>contact us</a> and we will help you to load your data.", "user"},
	2003:  {"Malformed CSV", "The CSV or converted XLS/XLSX to CSV file contains malformed or invalid characters. Some reasons for this error can be for example multiline header fields or multiline cells at Excel files or unquoted CSV.", "user"},
	2004:  {"Too many columns", "Data has too many columns. You can only import up to 250 columns. You can delete the columns you're not interested in, or split the file into smaller ones.", "user"},
	2005:  {"Duplicated column", "Your file has the same header for two or more columns. Please make column names unique and try again.", "user"},
	2006:  {"Encoding error", "There was a problem reading your file. Encoding seems wrong, probably because there's a wrong character. In order to sort it out, open your file with a text editor, save it with encoding UTF-8 and try again.", "user"},
	2007:  {"Encoding error", `The file you tried to import failed due to encoding issues. To fix this, force the encoding of your file using a text editor or a tool like QGis. You just need to export your files in "UTF-8" format.`, "user"},
	2008:  {"Malformed XLS", "The Excel file has an unsupported format or is corrupt. To fix this, open it and save as CSV or XLSX.", "user"},
	2009:  {"KML without style Id", "The KML file you tried to import failed because a style element doesn't have an ID attribute. To fix this error, please open the file and add an ID to all the style tags.", "user"},
	2010:  {"Incompatible CARTO table", "There was an error when converting your table into a CARTO table. Please <a href='mailto:support@carto.com?subject=CartoDBfy error'>contact us</a> and we will help you to load your data.", "user"},
	2011:  {"Invalid cartodb_id column", "The import failed because your table contains an invalid cartodb_id column. If you want to use it as a primary key, its values must be integers, non-null, and unique. Otherwise, try renaming your current cartodb_id column.", "user"},
	2012:  {"Incompatible schemas", "The import failed because you are trying to overwrite a table but the data you are providing is not compatible with the data that table already has. You may me changing some types or removing a column. Please check and try again", "user"},
	2013:  {"Cannot overwrite table", "The synchronization failed because the destination table could not be overwritten. Please make sure that there are no database objects (e.g: views) that depend on it.", "user"},
	2014:  {"Invalid geometries", "Your file appears to contain invalid geometries. Try opening the file with another GIS tool and checking the geometry validity. If everything appears to be okay, <a href='mailto:support@carto.com?subject=Invalid Geometries'>contact us</a>.", "user"},
	3007:  {"JSON may not be valid GeoJSON", "We can only import GeoJSON formated JSON files. See if the source of this data supports GeoJSON or another file format for download.", "user"},
	3008:  {"Unknown SRID", "The SRID of the provided file it's not in the spatial_ref_sys table. You can get rid of this error inserting the SRID specific data in the spatial_ref_sys table.", "user"},
	3009:  {"SHP Normalization error", "We were unable to detect the encoding or projection of your Shapefile. Try converting the file to UTF-8 and a 4326 SRID.", "user"},
	3101:  {"Missing projection (.prj) file", "CARTO needs a PRJ file for all Shapefile archives uploaded. Contact your data provider to see about aquiring one if it was missing. Otherwise see spatialreference.org to locate the right one if you know it. Remember, the file name for your .prj must be the same as your .shp.", "user"},
	3201:  {"Geometry Collection not supported", "We are working to support more formats every day, but currently we cannot take mixed geometry types. Take a look at your data source and see if other formats are available, otherwise, look into tools like OGR to split this file into valid ESRI Shapefiles prior to importing. ", "user"},
	3202:  {"Empty KML", "This KML doesn't include actual data, but a link to another KML with the data. Please extract the URL from this KML and try to import it", "user"},
	6666:  {"Dataset too big", "The dataset you tried to import is too big and cannot be processed. If the dataset allows it, you can try splitting it into smaller files and then append them once imported, or contact our support team at <a href='mailto:support@carto.com?subject=Dataset%20too%20big%20import%20error'>support@carto.com</a>.", "user"},
	6667:  {"Import timed out", "There is been a problem importing your file due to the time is been taking to process it. Please try again and contact us if the problem persist.", "cartodb"},
	6668:  {"Too many table rows", "You cannot import this dataset. The number of rows exceeds the maximum dataset quota permitted for your account. Please contact <a href='mailto:sales@carto.com?subject=Dataset%20too%20many%20table%20rows%20import%20error'>Sales</a> if you have questions about importing this dataset.", "user"},
	6669:  {"Too many concurrent imports", "You cannot import more data until one of your active imports finishes. If you need further import slots contact our support team at <a href='mailto:support@carto.com?subject=Dataset%20too%20many%20concurrent%20imports%20error'>support@carto.com</a>.", "user"},
	6670:  {"Too many named map templates", "You reached the limit on the number of named map templates.", "user"},
	6671:  {"Stuck import job", "The import job was stuck and we marked it as failed. Please try importing again.", "cartodb"},
	8001:  {"Over account storage limit, please upgrade", upgrade, "user"},
	8002:  {"You have reached the limit of datasets for your plan. Upgrade your account to get unlimited datasets", upgrade, "user"},
	8003:  {"Error creating table from SQL query", "We couldn't create a table from your query. Please check it doesn't return duplicate column names. Please <a href='mailto:support@carto.com?subject=Unknown error'>contact us</a> if you need help editing your query.", "user"},
	8004:  {"Merge with unmatching column types", "The columns you have chosen don't have the same column type in both tables. Please change the types so the columns will have the same type and try again.", "user"},
	8005:  {"Max layers per map reached", "You can't add more layers to your map. Please upgrade your account.", "user"},
	8006:  {"Not enough Twitter credits", "Unfortunately, you don't have enough Twitter credits to proceed. Please contact <a href='mailto:sales@carto.com?subject=Exceeded%20Twitter%20quota'>Sales</a> if you have questions about how to obtain more credits.", "user"},
	8007:  {"Over account maps limit, please upgrade", upgrade, "user"},
	8008:  {"Over account datasets limit or publication is disabled in your account", "Please contact us at support@carto.com indicating this error code for more information.", "user"},
	99999: {"Unknown", "Sorry, something went wrong and we're not sure what. Try\n      uploading your file again, or <a href='mailto:support@carto.com?subject=Unknown error'>contact us</a> and we'll try to help you quickly.", "cartodb"},
}
