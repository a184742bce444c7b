package fakeaad

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/m365snow/m365snow/internal/wellknown"
)

// graphGet sends a GET with optional ConsistencyLevel: eventual.
func (e *testEnv) graphGet(t testing.TB, path, token string, eventual bool) response {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, e.ts.URL+"/v1.0"+path, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	if eventual {
		req.Header.Set("ConsistencyLevel", "eventual")
	}
	return e.do(t, req)
}

func values(t testing.TB, r response) []map[string]any {
	t.Helper()
	list, ok := r.body["value"].([]any)
	if !ok {
		t.Fatalf("no value in %d %s", r.status, r.raw)
	}
	out := make([]map[string]any, len(list))
	for i, v := range list {
		out[i] = v.(map[string]any)
	}
	return out
}

func names(objs []map[string]any) []string {
	var out []string
	for _, o := range objs {
		out = append(out, o["displayName"].(string))
	}
	return out
}

func q(s string) string { return url.QueryEscape(s) }

// The query options of Graph's docs (concepts/query-parameters.md,
// filter-query-parameter.md, aad-advanced-queries.md) on /applications.
func TestGraphODataApplications(t *testing.T) {
	env := newEnv(t, false)
	admin := env.userToken(t, "admin@contoso.onmicrosoft.com", "admin-pw", wellknown.GraphResource)
	cases := []struct {
		name     string
		query    string
		eventual bool
		want     []string // display names, in order
		count    any      // @odata.count, nil when absent
	}{
		{"eq on appId (application-list.md example)", "$filter=" + q("appId eq '"+restAPIID+"'"), false, []string{"Rest API"}, nil},
		{"startswith", "$filter=" + q("startswith(displayName,'Rest')"), false, []string{"Rest API", "Rest User"}, nil},
		{"in", "$filter=" + q("appId in ('"+outboundID+"', '"+modernID+"')"), false, []string{"Outbound", "Modern API"}, nil},
		{"any on identifierUris", "$filter=" + q("identifierUris/any(x:x eq 'api://modern')"), false, []string{"Modern API"}, nil},
		{"any with startswith", "$filter=" + q("identifierUris/any(x:startswith(x,'api://sh'))"), false, []string{"Shared API"}, nil},
		{"or", "$filter=" + q("displayName eq 'Outbound' or displayName eq 'rest api'"), false, []string{"Outbound", "Rest API"}, nil},
		{"and with parentheses", "$filter=" + q("(startswith(displayName,'Rest') and appId eq '"+restUserID+"')"), false, []string{"Rest User"}, nil},
		{"signInAudience eq", "$filter=" + q("signInAudience eq 'AzureADMultipleOrgs'"), false, []string{"Multi-tenant tool", "Shared API"}, nil},
		{"$count=true without ConsistencyLevel is ignored", "$filter=" + q("startswith(displayName,'Rest')") + "&$count=true", false, []string{"Rest API", "Rest User"}, nil},
		{"ne as an advanced query, with @odata.count", "$filter=" + q("signInAudience ne 'AzureADMyOrg'") + "&$count=true", true, []string{"Multi-tenant tool", "Shared API"}, "2"},
		{"not startswith as an advanced query", "$filter=" + q("not startswith(displayName,'R')") + "&$count=true&$orderby=displayName", true, []string{"Modern API", "Multi-tenant tool", "Outbound", "Shared API"}, "4"},
		{"$orderby desc as an advanced query", "$orderby=" + q("displayName desc") + "&$count=true&$top=2", true, []string{"Shared API", "Rest User"}, "7"},
		{"$search as an advanced query", "$search=" + q(`"displayName:tool"`), true, []string{"Multi-tenant tool"}, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := env.graphGet(t, "/applications?"+c.query, admin, c.eventual)
			if r.status != 200 {
				t.Fatalf("%d %s", r.status, r.raw)
			}
			got := names(values(t, r))
			want := c.want
			if !strings.Contains(c.query, "orderby") {
				slices.Sort(got)
				want = slices.Sorted(slices.Values(c.want))
			}
			if !slices.Equal(got, want) {
				t.Errorf("got %q, want %q", got, want)
			}
			if cnt := r.body["@odata.count"]; (c.count == nil) != (cnt == nil) || (cnt != nil && cnt.(interface{ String() string }).String() != c.count) {
				t.Errorf("@odata.count %v, want %v", cnt, c.count)
			}
		})
	}
}

// Refusals, each with the code and message Graph documents or clients
// quote (docs/fidelity-graph.md).
func TestGraphODataErrors(t *testing.T) {
	env := newEnv(t, false)
	admin := env.userToken(t, "admin@contoso.onmicrosoft.com", "admin-pw", wellknown.GraphResource)
	cases := []struct {
		name     string
		path     string
		eventual bool
		status   int
		code     string
		msg      string
	}{
		{"ne needs the advanced parameters", "/applications?$filter=" + q("displayName ne 'x'"), false, 400, "Request_UnsupportedQuery",
			"Operator 'NotEqualsMatch' is not supported because the required parameters might be missing. Try adding $count=true query parameter and ConsistencyLevel:eventual header. Refer to https://aka.ms/graph-docs/advanced-queries for more information"},
		{"ConsistencyLevel alone is not enough", "/applications?$filter=" + q("displayName ne 'x'"), true, 400, "Request_UnsupportedQuery", "Operator 'NotEqualsMatch' is not supported"},
		{"endswith on users needs them too", "/users?$filter=" + q("endswith(mail,'@contoso.com')"), false, 400, "Request_UnsupportedQuery", "Operator 'endsWith' is not supported because the required parameters might be missing."},
		{"a property without filter support", "/applications?$filter=" + q("notes eq 'x'"), false, 400, "Request_UnsupportedQuery",
			"Unsupported or invalid query filter clause specified for property 'notes' of resource 'Application'."},
		{"startswith where only eq works", "/applications?$filter=" + q("startswith(appId,'1')"), false, 400, "Request_UnsupportedQuery",
			"Unsupported or invalid query filter clause specified for property 'appId' of resource 'Application'."},
		{"a range operator", "/applications?$filter=" + q("createdDateTime ge 2021-11-01"), true, 400, "Request_UnsupportedQuery", "property 'createdDateTime' of resource 'Application'"},
		{"$orderby on applications without advanced parameters", "/applications?$orderby=displayName", false, 400, "Request_UnsupportedQuery", "Sorting not supported for current query."},
		{"$filter with $orderby on users without advanced parameters", "/users?$orderby=displayName&$filter=" + q("accountEnabled eq true"), false, 400, "Request_UnsupportedQuery", "Sorting not supported for current query."},
		{"$top above 999", "/applications?$top=1000", false, 400, "Request_UnsupportedQuery", "Invalid page size specified: '1000'. Must be between 1 and 999 inclusive."},
		{"$top zero", "/applications?$top=0", false, 400, "Request_UnsupportedQuery", "Invalid page size specified: '0'."},
		{"$select of an unknown property", "/applications?$select=appId,colour", false, 400, "BadRequest",
			"Parsing OData Select and Expand failed: Could not find a property named 'colour' on type 'microsoft.graph.application'."},
		{"a syntax error", "/applications?$filter=" + q("displayName eq"), false, 400, "BadRequest", "Invalid filter clause"},
		{"an unterminated string", "/applications?$filter=" + q("displayName eq 'x"), false, 400, "BadRequest", "Invalid filter clause"},
		{"$search without ConsistencyLevel", "/applications?$search=" + q(`"displayName:Rest"`), false, 400, "Request_UnsupportedQuery",
			"Request with $search query parameter only works through MSGraph with a special request header: 'ConsistencyLevel: eventual'"},
		{"$count segment without ConsistencyLevel", "/applications/$count", false, 400, "Request_BadRequest", "$count is not currently supported."},
		{"a skip token this server did not issue", "/applications?$skiptoken=abc", false, 400, "Directory_ExpiredPageToken", "has expired"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			checkGraphError(t, env.graphGet(t, c.path, admin, c.eventual), c.status, c.code, c.msg)
		})
	}
}

func TestGraphODataSelectAndPaging(t *testing.T) {
	env := newEnv(t, false)
	admin := env.userToken(t, "admin@contoso.onmicrosoft.com", "admin-pw", wellknown.GraphResource)

	// $select: only the named properties, and the context names them
	// (application-list.md, "Example 2").
	r := env.graphGet(t, "/applications?$select=appId,displayName&$top=3", admin, false)
	if r.body["@odata.context"] != "https://graph.microsoft.com/v1.0/$metadata#applications(appId,displayName)" {
		t.Errorf("context %v", r.body["@odata.context"])
	}
	for _, o := range values(t, r) {
		if len(o) != 2 || o["appId"] == nil || o["displayName"] == nil {
			t.Errorf("selected object %v", o)
		}
	}
	// Paging: $top=3 over 7 applications is three pages; nextLink keeps
	// the other options and adds $skiptoken (concepts/paging.md).
	var seen []string
	next := "https://graph.microsoft.com/v1.0/applications?$select=appId,displayName&$top=3"
	pages := 0
	for next != "" {
		path := strings.TrimPrefix(next, "https://graph.microsoft.com/v1.0")
		r := env.graphGet(t, path, admin, false)
		if r.status != 200 {
			t.Fatalf("page %d: %d %s", pages, r.status, r.raw)
		}
		pages++
		for _, o := range values(t, r) {
			seen = append(seen, o["appId"].(string))
		}
		next, _ = r.body["@odata.nextLink"].(string)
		if next != "" && (!strings.Contains(next, "$skiptoken=") || !strings.Contains(next, "$top=3") || !strings.Contains(next, "$select=appId,displayName")) {
			t.Fatalf("nextLink %s", next)
		}
	}
	slices.Sort(seen)
	if pages != 3 || len(slices.Compact(seen)) != 7 {
		t.Errorf("%d pages, %d distinct apps: %v", pages, len(seen), seen)
	}

	// A single object with $select: …/$metadata#applications(displayName)/$entity.
	r = env.graphGet(t, "/applications(appId='"+outboundID+"')?$select=displayName", admin, false)
	if r.body["@odata.context"] != "https://graph.microsoft.com/v1.0/$metadata#applications(displayName)/$entity" || r.body["displayName"] != "Outbound" || r.body["id"] != nil {
		t.Errorf("entity %s", r.raw)
	}

	// The $count segment with ConsistencyLevel is plain text.
	r = env.graphGet(t, "/applications/$count", admin, true)
	if r.status != 200 || strings.TrimSpace(r.raw) != "7" || !strings.HasPrefix(r.header.Get("Content-Type"), "text/plain") {
		t.Errorf("$count: %d %q %s", r.status, r.raw, r.header.Get("Content-Type"))
	}

	// Users: the default projection leaves accountEnabled out, but it
	// filters and selects (user-list.md).
	r = env.graphGet(t, "/users?$filter="+q("accountEnabled eq false"), admin, false)
	users := values(t, r)
	if len(users) != 1 || users[0]["userPrincipalName"] != "gone@contoso.onmicrosoft.com" {
		t.Fatalf("disabled users %v", users)
	}
	if _, has := users[0]["accountEnabled"]; has {
		t.Errorf("default projection carries accountEnabled: %v", users[0])
	}
	r = env.graphGet(t, "/users?$select=userPrincipalName,accountEnabled&$orderby=userPrincipalName&$top=1", admin, false)
	if u := values(t, r)[0]; u["userPrincipalName"] != "admin@contoso.onmicrosoft.com" || u["accountEnabled"] != true {
		t.Errorf("selected user %v", u)
	}
}
