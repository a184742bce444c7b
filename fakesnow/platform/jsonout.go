package platform

import (
	"net/http"
	"strconv"
	"unicode/utf8"
)

// object is a JSON object whose members keep the order they were added in.
// Table API records are rendered into objects rather than maps so that a
// list of them encodes without reflection or sorting per record: the list
// read is the hottest path of the fake (docs/benchmarks.md).
type object []member

// member is a string value or a nested object.
type member struct {
	key string
	str string
	obj object
}

// MarshalJSON lets an object sit inside values given to encoding/json.
func (o object) MarshalJSON() ([]byte, error) { return o.appendJSON(nil), nil }

func (o object) appendJSON(b []byte) []byte {
	b = append(b, '{')
	for k, m := range o {
		if k > 0 {
			b = append(b, ',')
		}
		b = appendJSONString(b, m.key)
		b = append(b, ':')
		if m.obj != nil {
			b = m.obj.appendJSON(b)
		} else {
			b = appendJSONString(b, m.str)
		}
	}
	return append(b, '}')
}

const hexDigits = "0123456789abcdef"

// appendJSONString writes s as a JSON string: quotes, backslashes and
// control characters escaped, invalid UTF-8 replaced by U+FFFD, and U+2028
// and U+2029 escaped as encoding/json does. Unlike encoding/json it leaves
// <, > and & alone, as ServiceNow does.
func appendJSONString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

// writeRecords answers {"result": [records…]}, or {"result": {record}}
// when one is true, in the shape WriteResult gives; records are JSON
// objects already encoded.
func (i *Instance) writeRecords(w http.ResponseWriter, status int, records [][]byte, one bool) {
	bp, _ := i.buffers.Get().(*[]byte)
	if bp == nil {
		bp = new([]byte)
	}
	defer func() {
		if cap(*bp) <= 1<<20 { // do not keep a huge one around
			i.buffers.Put(bp)
		}
	}()
	b := (*bp)[:0]
	b = append(b, `{"result":`...)
	if one {
		b = append(b, records[0]...)
	} else {
		b = append(b, '[')
		for k, r := range records {
			if k > 0 {
				b = append(b, ',')
			}
			b = append(b, r...)
		}
		b = append(b, ']')
	}
	b = append(b, '}', '\n')
	h := w.Header()
	noCache(h)
	h.Set("Content-Type", "application/json;charset=UTF-8")
	h.Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(status)
	_, _ = w.Write(b)
	*bp = b
}
