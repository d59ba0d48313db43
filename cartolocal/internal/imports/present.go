package imports

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/url"

	"github.com/gocarto/carto/cartolocal/internal/importer"
)

func urlUnescape(s string) (string, error) { return url.PathUnescape(s) }

// object writes a JSON object with its keys in the order they are added: CARTO's answers have
// an order clients (and people) see.
type object struct{ b bytes.Buffer }

func (o *object) add(key string, v any) {
	if o.b.Len() == 0 {
		o.b.WriteByte('{')
	} else {
		o.b.WriteByte(',')
	}
	k, _ := json.Marshal(key)
	o.b.Write(k)
	o.b.WriteByte(':')
	var val []byte
	if raw, ok := v.(json.RawMessage); ok {
		val = raw
	} else {
		var buf bytes.Buffer
		enc := json.NewEncoder(&buf)
		enc.SetEscapeHTML(false)
		_ = enc.Encode(v)
		val = bytes.TrimRight(buf.Bytes(), "\n")
	}
	o.b.Write(val)
}

func (o *object) bytes() []byte {
	if o.b.Len() == 0 {
		return []byte("{}")
	}
	o.b.WriteByte('}')
	return o.b.Bytes()
}

// userDefinedLimits is what CARTO's presenter sends for an import without limits: a JSON string.
const userDefinedLimits = `{"twitter_credits_limit":0}`

// present is DataImportPresenter#api_public_values: the keys, their order and when they are
// there, as CARTO sends them.
func present(r *record, acct Account) []byte {
	var o object
	o.add("id", r.ID)
	o.add("user_id", acct.ID)
	o.add("table_id", r.TableID)
	o.add("data_type", r.DataType)
	o.add("table_name", r.TableName)
	o.add("state", r.State)
	o.add("error_code", r.ErrorCode)
	o.add("queue_id", r.ID)
	o.add("tables_created_count", r.Tables)
	o.add("synchronization_id", r.SyncID)
	o.add("type_guessing", r.Opts.TypeGuessing)
	o.add("quoted_fields_guessing", r.Opts.QuotedFieldsGuessing)
	o.add("content_guessing", r.Opts.ContentGuessing)
	o.add("create_visualization", r.Opts.CreateVis)
	o.add("visualization_id", r.VizID)
	o.add("user_defined_limits", userDefinedLimits)
	if r.ErrorCode == nil {
		o.add("get_error_text", nil)
	} else if t, ok := importer.Lookup(*r.ErrorCode); !ok {
		// A code CARTO's table lacks (1010) has no texts: IMPORTER_ERROR_CODES[code] is nil.
		o.add("get_error_text", nil)
	} else {
		var e object
		e.add("title", t.Title)
		e.add("what_about", t.WhatAbout)
		e.add("source", t.Source)
		o.add("get_error_text", json.RawMessage(e.bytes()))
	}
	o.add("display_name", r.DisplayName)
	if r.final() {
		o.add("success", r.State == StateComplete)
	}
	o.add("original_url", r.OriginalURL)
	if r.Warnings != nil {
		o.add("warnings", r.Warnings)
	} else {
		o.add("warnings", nil)
	}
	o.add("is_raster", false)
	if r.HTTPCode != nil {
		o.add("http_response_code", *r.HTTPCode)
		o.add("http_response_code_message", http.StatusText(*r.HTTPCode))
	}
	if r.State == StateComplete {
		o.add("any_table_raster", false)
		if r.Opts.CreateVis {
			o.add("derived_visualization_id", r.VizID)
		} else {
			o.add("derived_visualization_id", nil)
		}
	}
	return o.bytes()
}
