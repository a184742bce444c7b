package platform

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"errors"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"
)

// XML request and response bodies on the Table API. The Table API
// reference lists, for every method, "Accept: Data format of the response
// body. Supported types: application/json or application/xml" and
// "Response body parameters (JSON or XML)"; the REST API Explorer's
// generated code sends XML bodies as <request><entry><field>value</field>
// …</entry></request>. Clients run against real instances read a single
// record at response.result.<field> and a list as repeated
// response.result elements (response.result[0].sys_id) — public
// RestAssured tests, docs/fidelity.md; the Batch API reference's example
// item answers <?xml version="1.0" encoding="UTF-8"?><response><result>
// <user_name/></result></response> with Content-Type "application/xml;
// charset=UTF-8". The fake renders its JSON answer in that shape, so XML
// and JSON always say the same thing.

// xmlBodies lets a Table API handler take XML bodies and answer in XML
// when the client asks for it.
func xmlBodies(next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		xmlOut := acceptsXML(r.Header.Get("Accept"))
		if isXMLType(r.Header.Get("Content-Type")) && r.ContentLength != 0 {
			body, err := xmlRequestToJSON(r.Body)
			if err != nil {
				var tooLarge *http.MaxBytesError
				if !errors.As(err, &tooLarge) {
					err = errInvalidXML
				}
				ew := w
				if xmlOut {
					ew = &xmlResponse{ResponseWriter: w}
					defer ew.(*xmlResponse).flush()
				}
				WriteBodyError(ew, r, err)
				return
			}
			r.Body = io.NopCloser(bytes.NewReader(body))
			r.ContentLength = int64(len(body))
			r.Header.Set("Content-Type", "application/json")
		}
		if !xmlOut {
			next(w, r)
			return
		}
		xw := &xmlResponse{ResponseWriter: w}
		next(xw, r)
		xw.flush()
	}
}

var errInvalidXML = errors.New("invalid XML")

// isXMLType reports an XML media type: application/xml, text/xml or any
// +xml type (the types ServiceNow's REST framework treats as XML).
func isXMLType(ct string) bool {
	mt, _, err := mime.ParseMediaType(ct)
	return err == nil && (mt == "application/xml" || mt == "text/xml" || strings.HasSuffix(mt, "+xml"))
}

// acceptsXML reports whether an Accept header asks for XML before JSON.
// Order decides and quality values are not weighed: "application/xml"
// gives XML, "application/json, application/xml" and "*/*" give JSON, the
// default (modelled; docs/fidelity.md).
func acceptsXML(accept string) bool {
	for _, part := range strings.Split(accept, ",") {
		mt, params, err := mime.ParseMediaType(strings.TrimSpace(part))
		if err != nil || params["q"] == "0" {
			continue
		}
		switch {
		case isXMLType(mt):
			return true
		case mt == "application/json" || strings.HasSuffix(mt, "+json") || mt == "*/*" || mt == "application/*":
			return false
		}
	}
	return false
}

// xmlResponse holds a handler's answer and rewrites its JSON body as XML.
type xmlResponse struct {
	http.ResponseWriter
	status int
	body   bytes.Buffer
}

func (x *xmlResponse) WriteHeader(status int) {
	if x.status == 0 {
		x.status = status
	}
}

func (x *xmlResponse) Write(b []byte) (int, error) {
	if x.status == 0 {
		x.status = http.StatusOK
	}
	return x.body.Write(b)
}

func (x *xmlResponse) flush() {
	if x.status == 0 {
		x.status = http.StatusOK
	}
	h := x.ResponseWriter.Header()
	out := x.body.Bytes()
	if mt, _, _ := mime.ParseMediaType(h.Get("Content-Type")); mt == "application/json" {
		if x.body.Len() > 0 {
			converted, err := jsonToXML(out)
			if err == nil {
				out = converted
			}
		}
		h.Set("Content-Type", "application/xml; charset=UTF-8") // as in the Batch API reference's example
		if h.Get("Content-Length") != "" {
			h.Set("Content-Length", strconv.Itoa(len(out)))
		}
	}
	x.ResponseWriter.WriteHeader(x.status)
	_, _ = x.ResponseWriter.Write(out)
}

// jsonToXML renders a JSON document as the REST framework's XML: the top
// object is <response>, a member is an element of its name, an array is
// its elements repeated under the member's name, an empty value or null
// an empty element.
func jsonToXML(b []byte) ([]byte, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var out bytes.Buffer
	out.WriteString(`<?xml version="1.0" encoding="UTF-8"?>`)
	if err := xmlValue(dec, &out, "response"); err != nil {
		return nil, err
	}
	return out.Bytes(), nil
}

// xmlValue writes the next JSON value as element name.
func xmlValue(dec *json.Decoder, out *bytes.Buffer, name string) error {
	tok, err := dec.Token()
	if err != nil {
		return err
	}
	switch t := tok.(type) {
	case json.Delim:
		switch t {
		case '{':
			var inner bytes.Buffer
			for dec.More() {
				kt, err := dec.Token()
				if err != nil {
					return err
				}
				if err := xmlValue(dec, &inner, xmlName(kt.(string))); err != nil {
					return err
				}
			}
			if _, err := dec.Token(); err != nil { // '}'
				return err
			}
			writeElement(out, name, inner.Bytes())
		case '[':
			for dec.More() {
				if err := xmlValue(dec, out, name); err != nil {
					return err
				}
			}
			if _, err := dec.Token(); err != nil { // ']'
				return err
			}
		}
	case string:
		var text bytes.Buffer
		_ = xml.EscapeText(&text, []byte(t))
		writeElement(out, name, text.Bytes())
	case json.Number:
		writeElement(out, name, []byte(t.String()))
	case bool:
		writeElement(out, name, []byte(strconv.FormatBool(t)))
	case nil:
		writeElement(out, name, nil)
	}
	return nil
}

func writeElement(out *bytes.Buffer, name string, content []byte) {
	if len(content) == 0 {
		out.WriteString("<" + name + "/>")
		return
	}
	out.WriteString("<" + name + ">")
	out.Write(content)
	out.WriteString("</" + name + ">")
}

// xmlName makes a JSON member name an XML element name: field names
// (letters, digits, _, . for dot-walks) pass; any other character becomes
// _, and a name that cannot start an element gets a leading _.
func xmlName(s string) string {
	b := []byte(s)
	for k, c := range b {
		ok := c == '_' || c == '.' || c == '-' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
		if !ok {
			b[k] = '_'
		}
	}
	if len(b) == 0 || b[0] == '.' || b[0] == '-' || b[0] >= '0' && b[0] <= '9' {
		b = append([]byte{'_'}, b...)
	}
	return string(b)
}

// maxXMLDepth bounds the nesting of a request document:
// <request><entry><field><value> is as deep as a record goes.
const maxXMLDepth = 4

// xmlRequestToJSON reads <request><entry><field>value</field>…</entry>
// </request> (or a root whose children are the fields) as the JSON object
// the Table API's writers read. A field given as
// <field><value>…</value></field> (a reference as the API renders it)
// takes its value. Only the first entry counts, as only the first record
// of a JSON array does.
func xmlRequestToJSON(body io.Reader) ([]byte, error) {
	dec := xml.NewDecoder(body)
	dec.Strict = true
	var (
		path   []string
		fields = map[string]string{}
		text   strings.Builder
		entry  = 0 // entries seen
		field  string
	)
	inEntry := func() bool { return len(path) >= 2 && path[1] == "entry" && entry == 1 }
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
		switch t := tok.(type) {
		case xml.StartElement:
			path = append(path, t.Name.Local)
			if len(path) > maxXMLDepth {
				return nil, errInvalidXML
			}
			if len(path) == 2 && t.Name.Local == "entry" {
				entry++
			}
			if (len(path) == 3 && inEntry()) || (len(path) == 2 && t.Name.Local != "entry" && entry == 0) {
				field = t.Name.Local
				text.Reset()
			}
		case xml.CharData:
			if field != "" && (len(path) == 3 && inEntry() || len(path) == 2 && entry == 0 || path[len(path)-1] == "value") {
				text.Write(t)
			}
		case xml.EndElement:
			if field != "" && t.Name.Local == field && (len(path) == 3 && inEntry() || len(path) == 2 && entry == 0) {
				fields[field] = strings.TrimSpace(text.String())
				field = ""
			}
			path = path[:len(path)-1]
		}
	}
	if len(path) != 0 {
		return nil, errInvalidXML
	}
	return json.Marshal(fields)
}
