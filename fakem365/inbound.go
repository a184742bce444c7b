package fakem365

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/m365snow/m365snow/internal/wellknown"
)

// InboundCall is one call the connector made into an instance; the journal
// of them (InboundCalls) lets tests assert what did and did not happen.
type InboundCall struct {
	Time       time.Time `yaml:"time"`
	Repository string    `yaml:"repository"`
	Method     string    `yaml:"method"`
	URL        string    `yaml:"url"`
	Status     int       `yaml:"status,omitempty"` // 0 when the call failed before an answer
	Error      string    `yaml:"error,omitempty"`  // transport error or refusal
}

const maxJournal = 1000

func (s *Server) journal(c InboundCall) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls = append(s.calls, c)
	if len(s.calls) > maxJournal {
		s.calls = s.calls[len(s.calls)-maxJournal:]
	}
}

// InboundCalls returns the journal of calls into instances, oldest first.
func (s *Server) InboundCalls() []InboundCall {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]InboundCall(nil), s.calls...)
}

// creds is a copy of what an inbound call needs from a repository.
type creds struct {
	tid, repoID, endpoint, mode string
	clientID, clientSecret      string
	restUser, restPassword      string
	refreshExpiry               time.Duration
}

func (s *Server) credsLocked(tid string, r *Repository, mode string) creds {
	return creds{tid: tid, repoID: r.ID, endpoint: strings.TrimRight(r.Endpoint, "/"), mode: mode,
		clientID: r.ClientID, clientSecret: r.ClientSecret, restUser: r.RestUsername, restPassword: r.RestUserPassword,
		refreshExpiry: time.Duration(r.RefreshTokenExpiry) * time.Second}
}

// instanceBase is the scheme and host of a repository's Endpoint, where
// /oauth_token.do lives.
func instanceBase(endpoint string) (string, error) {
	u, err := url.Parse(endpoint)
	if err != nil || u.Host == "" {
		return "", fmt.Errorf("endpoint %q is not an absolute URL", endpoint)
	}
	return u.Scheme + "://" + u.Host, nil
}

// callInstance makes an authenticated call into the instance of repo in the
// given inbound mode. A 401 drops the cached credentials and retries once,
// since a token can be revoked before it expires.
func (s *Server) callInstance(ctx context.Context, c creds, repo *Repository, method, path string, body any) (int, []byte, error) {
	if c.mode != "basic" && c.mode != "aad" {
		return 0, nil, fmt.Errorf("no inbound calls in mode %q", c.mode)
	}
	var payload []byte
	if body != nil {
		var err error
		if payload, err = json.Marshal(body); err != nil {
			return 0, nil, err
		}
	}
	for attempt := 0; ; attempt++ {
		token, err := s.inboundToken(ctx, c, repo)
		if err != nil {
			s.journal(InboundCall{Time: s.clock.Now(), Repository: c.repoID, Method: method, URL: c.endpoint + path, Error: err.Error()})
			return 0, nil, err
		}
		req, err := http.NewRequestWithContext(ctx, method, c.endpoint+path, bytes.NewReader(payload))
		if err != nil {
			return 0, nil, err
		}
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set("Accept", "application/json")
		if payload != nil {
			req.Header.Set("Content-Type", "application/json")
		}
		res, err := s.client.Do(req)
		if err != nil {
			s.journal(InboundCall{Time: s.clock.Now(), Repository: c.repoID, Method: method, URL: req.URL.String(), Error: err.Error()})
			return 0, nil, err
		}
		b, _ := io.ReadAll(io.LimitReader(res.Body, 1<<20))
		res.Body.Close()
		s.journal(InboundCall{Time: s.clock.Now(), Repository: c.repoID, Method: method, URL: req.URL.String(), Status: res.StatusCode})
		if res.StatusCode == http.StatusUnauthorized && attempt == 0 && s.mutant != MutantNeverRefreshes {
			// The access token was refused (expired or revoked by the
			// instance's clock, not ours): drop it and retry once; the
			// refresh token, if it still lives, gets the next one.
			s.mu.Lock()
			repo.tokens.access, repo.tokens.aadToken = "", ""
			s.mu.Unlock()
			continue
		}
		if res.StatusCode == http.StatusUnauthorized && attempt == 0 {
			s.mu.Lock()
			repo.tokens = inboundTokens{}
			s.mu.Unlock()
			continue
		}
		return res.StatusCode, b, nil
	}
}

func (s *Server) inboundToken(ctx context.Context, c creds, repo *Repository) (string, error) {
	now := s.clock.Now()
	s.mu.Lock()
	t := repo.tokens
	s.mu.Unlock()
	if c.mode == "aad" && s.mutant != MutantBasicWhenAAD {
		if t.aadToken != "" && now.Before(t.aadExp.Add(-5*time.Minute)) {
			return t.aadToken, nil
		}
		tok, exp, err := s.aadClientCredentials(ctx, c.tid, c.restUser, c.restPassword, c.clientID)
		if err != nil {
			return "", err
		}
		s.mu.Lock()
		repo.tokens.aadToken, repo.tokens.aadExp = tok, exp
		s.mu.Unlock()
		return tok, nil
	}
	if t.access != "" && (now.Before(t.accessExp) || s.mutant == MutantNeverRefreshes) {
		return t.access, nil
	}
	base, err := instanceBase(c.endpoint)
	if err != nil {
		return "", err
	}
	if t.refresh != "" && now.Before(t.refreshExp) && s.mutant != MutantNeverRefreshes {
		tok, err := s.snowToken(ctx, base, url.Values{"grant_type": {"refresh_token"}, "client_id": {c.clientID},
			"client_secret": {c.clientSecret}, "refresh_token": {t.refresh}})
		if err == nil {
			s.mu.Lock()
			repo.tokens.access, repo.tokens.accessExp = tok.AccessToken, now.Add(time.Duration(tok.ExpiresIn)*time.Second)
			s.mu.Unlock()
			return tok.AccessToken, nil
		}
		// A refused refresh falls back to the password grant.
	}
	tok, err := s.snowToken(ctx, base, url.Values{"grant_type": {"password"}, "client_id": {c.clientID},
		"client_secret": {c.clientSecret}, "username": {c.restUser}, "password": {c.restPassword}})
	if err != nil {
		return "", err
	}
	s.mu.Lock()
	repo.tokens.access, repo.tokens.accessExp = tok.AccessToken, now.Add(time.Duration(tok.ExpiresIn)*time.Second)
	repo.tokens.refresh, repo.tokens.refreshExp = tok.RefreshToken, now.Add(c.refreshExpiry)
	s.mu.Unlock()
	return tok.AccessToken, nil
}

type snowTokenBody struct {
	AccessToken  string `json:"access_token"`
	RefreshToken string `json:"refresh_token"`
	ExpiresIn    int    `json:"expires_in"`
}

// snowToken posts to the instance's /oauth_token.do.
func (s *Server) snowToken(ctx context.Context, base string, form url.Values) (*snowTokenBody, error) {
	status, b, err := s.postForm(ctx, base+"/oauth_token.do", form)
	if err != nil {
		return nil, fmt.Errorf("%s grant at %s/oauth_token.do: %w", form.Get("grant_type"), base, err)
	}
	if status != http.StatusOK {
		return nil, fmt.Errorf("%s grant at %s/oauth_token.do refused: HTTP %d %s", form.Get("grant_type"), base, status, clip(string(b), 200))
	}
	var t snowTokenBody
	if err := json.Unmarshal(b, &t); err != nil || t.AccessToken == "" {
		return nil, fmt.Errorf("%s grant at %s/oauth_token.do: no access_token in %s", form.Get("grant_type"), base, clip(string(b), 200))
	}
	return &t, nil
}

// aadClientCredentials gets a v1 token from Azure AD.
func (s *Server) aadClientCredentials(ctx context.Context, tid, clientID, secret, resource string) (string, time.Time, error) {
	endpoint := "https://" + wellknown.LoginHost + "/" + tid + "/oauth2/token"
	status, b, err := s.postForm(ctx, endpoint, url.Values{"grant_type": {"client_credentials"}, "client_id": {clientID},
		"client_secret": {secret}, "resource": {resource}})
	if err != nil {
		return "", time.Time{}, fmt.Errorf("Azure AD token for %s: %w", resource, err)
	}
	var body struct {
		AccessToken      string `json:"access_token"`
		ExpiresOn        string `json:"expires_on"`
		ErrorDescription string `json:"error_description"`
	}
	_ = json.Unmarshal(b, &body)
	if status != http.StatusOK || body.AccessToken == "" {
		desc := body.ErrorDescription
		if desc == "" {
			desc = clip(string(b), 200)
		}
		return "", time.Time{}, fmt.Errorf("Azure AD refused a token for %s (HTTP %d): %s", resource, status, desc)
	}
	exp := s.clock.Now().Add(time.Hour)
	if n, err := strconv.ParseInt(body.ExpiresOn, 10, 64); err == nil {
		exp = time.Unix(n, 0)
	}
	return body.AccessToken, exp, nil
}

func (s *Server) postForm(ctx context.Context, target string, form url.Values) (int, []byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target, strings.NewReader(form.Encode()))
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	res, err := s.client.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(io.LimitReader(res.Body, 1<<20))
	return res.StatusCode, b, err
}

func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
