package platform

import (
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestAppendJSONString(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"plain", `"plain"`},
		{`quote " and \ backslash`, `"quote \" and \\ backslash"`},
		{"line\nbreak\r\ttab\x01\x1f", `"line\nbreak\r\ttab\u0001\u001f"`},
		{"<b>&amp;</b>", `"<b>&amp;</b>"`},
		{"bad \xff byte", `"bad \ufffd byte"`},
		{"sep\u2028\u2029", `"sep\u2028\u2029"`},
		{"Zoë – 東京", `"Zoë – 東京"`},
	} {
		if got := string(appendJSONString(nil, tc.in)); got != tc.want {
			t.Errorf("%q: got %s, want %s", tc.in, got, tc.want)
		}
	}
}

// FuzzAppendJSONString holds the hand-written encoder to encoding/json:
// what it writes is valid JSON that decodes to the same string (invalid
// UTF-8 aside, which both replace).
func FuzzAppendJSONString(f *testing.F) {
	for _, s := range []string{"", "a\"b", "\x00\x7f", "\xed\xa0\x80", "\u2028", "<>&"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		b := appendJSONString(nil, s)
		var back string
		if err := json.Unmarshal(b, &back); err != nil {
			t.Fatalf("%q encoded as invalid JSON %s: %v", s, b, err)
		}
		// Each invalid byte becomes one U+FFFD.
		var want strings.Builder
		for i := 0; i < len(s); {
			r, size := utf8.DecodeRuneInString(s[i:])
			want.WriteRune(r)
			i += size
		}
		if back != want.String() {
			t.Fatalf("%q came back as %q, want %q", s, back, want.String())
		}
	})
}

func TestObjectJSON(t *testing.T) {
	o := object{{key: "a", str: "1"}, {key: "ref", obj: object{{key: "link", str: "x"}, {key: "value", str: "y"}}}}
	b, err := json.Marshal(map[string]any{"result": []object{o}})
	if err != nil || string(b) != `{"result":[{"a":"1","ref":{"link":"x","value":"y"}}]}` {
		t.Fatalf("%s %v", b, err)
	}
}
