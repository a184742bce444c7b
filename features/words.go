package features

import (
	"encoding/json"
	"fmt"
)

// shown renders a value a step observed for a failure message: JSON, as
// the parties sent it, cut at 600 characters; never a Go value dump such
// as map[number:INC0010001 ...]. Nothing reads "none" rather than "null"
// or "[]".
func shown(v any) string {
	switch x := v.(type) {
	case nil:
		return "none"
	case string:
		return fmt.Sprintf("%q", x)
	case []any:
		if len(x) == 0 {
			return "none"
		}
	case map[string]any:
		if len(x) == 0 {
			return "none"
		}
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	if len(b) > 600 {
		return string(b[:600]) + " …"
	}
	return string(b)
}
