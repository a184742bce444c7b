package features

import "testing"

func TestShownIsJSONNotAGoDump(t *testing.T) {
	for _, tc := range []struct {
		in   any
		want string
	}{
		{map[string]any{"number": "INC0010001", "state": "1"}, `{"number":"INC0010001","state":"1"}`},
		{[]any{}, "none"},
		{nil, "none"},
		{"text", `"text"`},
		{[]any{map[string]any{"title": "Fix Outlook"}}, `[{"title":"Fix Outlook"}]`},
	} {
		if got := shown(tc.in); got != tc.want {
			t.Errorf("shown(%#v) = %s, want %s", tc.in, got, tc.want)
		}
	}
}
