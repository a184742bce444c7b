package m365app

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/m365snow/m365snow/fakesnow/platform"
	"github.com/m365snow/m365snow/internal/wellknown"
)

// ConnectorBase is where the app calls the connector.
const ConnectorBase = "https://" + wellknown.ConnectorHost + "/api/v1/repositories/"

// failureKind sorts connector failures into what the user sees.
type failureKind int

const (
	// failSilent: nothing shows up — the token could not be had, the
	// connector could not be reached, or it refused the token. Only the
	// outbound HTTP log tells why (troubleshooting rows 9, 11, 13).
	failSilent failureKind = iota + 1
	// failAppSupport: the connector answered with an error or something
	// that is not JSON (rows 10, 12).
	failAppSupport
	// failFinalStep: the connector no longer knows the integration (no
	// profile, other Application ID, no repository, no handshake).
	failFinalStep
	// failNotAdmin: the case contact is not a Microsoft 365 admin (row 8).
	failNotAdmin
)

// failure is why a connector call did not give a result.
type failure struct {
	kind   failureKind
	code   string // the connector's error code, when it answered one
	reason string // for the system log
}

func (f *failure) Error() string { return f.reason }

// outboundEntity reads the Setup-selected profile and its entity — a
// cross-scope read of global tables.
func (a *App) outboundEntity(ctx *platform.AppContext, s platform.Record) (platform.Record, error) {
	prof, err := ctx.Get("oauth_entity_profile", s["outbound_profile"])
	if err != nil {
		return nil, fmt.Errorf("outbound OAuth profile: %w", err)
	}
	ent, err := ctx.Get("oauth_entity", prof["oauth_entity"])
	if err != nil {
		return nil, fmt.Errorf("outbound OAuth provider: %w", err)
	}
	return ent, nil
}

// token gets an Azure AD token for the connector with client credentials of
// the outbound entity (AAD's v1 endpoint needs resource=, which the app's
// OAuth script adds), reusing it until five minutes before it expires.
func (a *App) token(ctx *platform.AppContext, ent platform.Record) (string, *failure) {
	key := strings.Join([]string{ent["sys_id"], ent["client_id"], ent["client_secret"], ent["token_url"]}, "\x00")
	now := ctx.Instance().Clock().Now()
	a.mu.Lock()
	c, ok := a.tokens[key]
	a.mu.Unlock()
	if ok && now.Before(c.exp.Add(-5*time.Minute)) {
		return c.token, nil
	}
	form := url.Values{"grant_type": {"client_credentials"}, "resource": {wellknown.ConnectorResource}}
	req, err := http.NewRequest(http.MethodPost, ent["token_url"], nil)
	if err != nil {
		return "", &failure{kind: failSilent, reason: fmt.Sprintf("token URL %q: %v", ent["token_url"], err)}
	}
	if strings.Contains(strings.ToLower(ent["send_client_credentials_as"]), "basic") {
		req.SetBasicAuth(url.QueryEscape(ent["client_id"]), url.QueryEscape(ent["client_secret"]))
	} else {
		form.Set("client_id", ent["client_id"])
		form.Set("client_secret", ent["client_secret"])
	}
	req.Body = io.NopCloser(strings.NewReader(form.Encode()))
	req.ContentLength = int64(len(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	res, err := ctx.HTTP().Do(req)
	if err != nil {
		return "", &failure{kind: failSilent, reason: "the token request did not complete"}
	}
	defer res.Body.Close()
	var body struct {
		AccessToken string          `json:"access_token"`
		ExpiresOn   json.RawMessage `json:"expires_on"`
		ExpiresIn   json.RawMessage `json:"expires_in"`
	}
	if res.StatusCode != http.StatusOK || json.NewDecoder(res.Body).Decode(&body) != nil || body.AccessToken == "" {
		return "", &failure{kind: failSilent, reason: fmt.Sprintf("the token endpoint answered HTTP %d", res.StatusCode)}
	}
	exp := now.Add(time.Hour)
	if n, err := strconv.ParseInt(strings.Trim(string(body.ExpiresOn), `"`), 10, 64); err == nil {
		exp = time.Unix(n, 0)
	} else if n, err := strconv.ParseInt(strings.Trim(string(body.ExpiresIn), `"`), 10, 64); err == nil {
		exp = now.Add(time.Duration(n) * time.Second)
	}
	a.mu.Lock()
	a.tokens[key] = cachedToken{body.AccessToken, exp}
	a.mu.Unlock()
	return body.AccessToken, nil
}

// connector calls the connector for the Setup's repository and decodes a
// 2xx JSON answer into out. Every failure is classified.
func (a *App) connector(ctx *platform.AppContext, s platform.Record, method, path string, in, out any) *failure {
	ent, err := a.outboundEntity(ctx, s)
	if err != nil {
		return &failure{kind: failSilent, reason: err.Error()}
	}
	tok, f := a.token(ctx, ent)
	if f != nil {
		return f
	}
	var payload io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return &failure{kind: failAppSupport, reason: err.Error()}
		}
		payload = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, ConnectorBase+url.PathEscape(s["repository_id"])+path, payload)
	if err != nil {
		return &failure{kind: failAppSupport, reason: err.Error()}
	}
	req.Header.Set("Authorization", "Bearer "+tok)
	req.Header.Set("Accept", "application/json")
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	res, err := ctx.HTTP().Do(req)
	if err != nil {
		return &failure{kind: failSilent, reason: "the connector could not be reached"}
	}
	defer res.Body.Close()
	b, err := io.ReadAll(io.LimitReader(res.Body, 1<<20))
	if err != nil {
		return &failure{kind: failSilent, reason: "the connector's answer was cut off"}
	}
	if res.StatusCode/100 != 2 {
		var e struct {
			Error struct {
				Code    string `json:"code"`
				Message string `json:"message"`
			} `json:"error"`
		}
		_ = json.Unmarshal(b, &e)
		f := &failure{code: e.Error.Code, reason: fmt.Sprintf("the connector answered HTTP %d %s: %s", res.StatusCode, e.Error.Code, e.Error.Message)}
		switch {
		case res.StatusCode == http.StatusUnauthorized:
			f.kind = failSilent
		case e.Error.Code == "ContactNotAdmin":
			f.kind = failNotAdmin
		case e.Error.Code == "OrganizationProfileMissing" || e.Error.Code == "ApplicationIdMismatch" ||
			e.Error.Code == "RepositoryNotFound" || e.Error.Code == "HandshakeRequired":
			f.kind = failFinalStep
		default:
			f.kind = failAppSupport
		}
		return f
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			return &failure{kind: failAppSupport, reason: fmt.Sprintf("the connector's answer is not valid JSON: %v", err)}
		}
	}
	return nil
}

// asFailure unwraps a failure from an error.
func asFailure(err error) (*failure, bool) {
	var f *failure
	return f, errors.As(err, &f)
}
