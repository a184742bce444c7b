package platform

import (
	"encoding/json"
	"strings"
	"testing"
)

// FuzzXMLBodies: any request body the Table API reads as XML yields a JSON
// object of strings or an error, never a panic; any JSON document renders
// as well-formed XML.
func FuzzXMLBodies(f *testing.F) {
	for _, s := range []string{
		`<request><entry><short_description>x</short_description></entry></request>`,
		`<request><caller_id><value>abc</value></caller_id></request>`,
		`<a><entry><b><c><d>deep</d></c></b></entry></a>`,
		`<!DOCTYPE r [<!ENTITY a "x">]><r>&a;</r>`,
		`{"result":[{"a":"<&>","b":{"link":"l","value":"v"}}],"n":1.5,"t":true,"z":null}`,
		`{"error":{"message":"m","detail":null},"status":"failure"}`,
		`{"": "x", "1a": [[]], "a b": {}}`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if b, err := xmlRequestToJSON(strings.NewReader(s)); err == nil {
			var m map[string]string
			if json.Unmarshal(b, &m) != nil {
				t.Fatalf("xmlRequestToJSON(%q) = %s: not a JSON object of strings", s, b)
			}
		}
		if json.Valid([]byte(s)) {
			out, err := jsonToXML([]byte(s))
			if err != nil {
				t.Fatalf("jsonToXML(%q): %v", s, err)
			}
			if err := wellFormed(string(out)); err != nil {
				t.Fatalf("jsonToXML(%q) = %s: %v", s, out, err)
			}
		}
	})
}
