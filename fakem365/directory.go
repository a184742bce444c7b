package fakem365

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/m365snow/m365snow/internal/wellknown"
)

// isSupportAdmin reports whether email belongs to a directory user of the
// tenant who holds a Global, Helpdesk or Service Support administrator role.
// The connector reads the directory through Microsoft Graph with its own
// application token, as a real service would.
func (s *Server) isSupportAdmin(ctx context.Context, tid, email string) (bool, error) {
	token, err := s.graphToken(ctx, tid)
	if err != nil {
		return false, err
	}
	lit := strings.ReplaceAll(email, "'", "''")
	filter := url.QueryEscape(fmt.Sprintf("mail eq '%s' or userPrincipalName eq '%s'", lit, lit))
	var users struct {
		Value []struct {
			ID string `json:"id"`
		} `json:"value"`
	}
	if err := s.graphGet(ctx, token, "/v1.0/users?$filter="+filter, &users); err != nil {
		return false, err
	}
	if len(users.Value) == 0 {
		return false, nil
	}
	var roles struct {
		Value []struct {
			RoleTemplateID string `json:"roleTemplateId"`
		} `json:"value"`
	}
	if err := s.graphGet(ctx, token, "/v1.0/users/"+url.PathEscape(users.Value[0].ID)+"/memberOf", &roles); err != nil {
		return false, err
	}
	return slices.ContainsFunc(roles.Value, func(r struct {
		RoleTemplateID string `json:"roleTemplateId"`
	}) bool {
		return slices.Contains(wellknown.SupportAdminRoles, r.RoleTemplateID)
	}), nil
}

func (s *Server) graphToken(ctx context.Context, tid string) (string, error) {
	s.mu.Lock()
	c, ok := s.graphTokens[tid]
	s.mu.Unlock()
	if ok && s.clock.Now().Before(c.exp.Add(-5*time.Minute)) {
		return c.token, nil
	}
	tok, exp, err := s.aadClientCredentials(ctx, tid, wellknown.ConnectorAppID, s.connectorSecret, wellknown.GraphResource)
	if err != nil {
		return "", fmt.Errorf("directory lookup: %w", err)
	}
	s.mu.Lock()
	s.graphTokens[tid] = cachedToken{tok, exp}
	s.mu.Unlock()
	return tok, nil
}

type cachedToken struct {
	token string
	exp   time.Time
}

func (s *Server) graphGet(ctx context.Context, token, path string, v any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "https://"+wellknown.GraphHost+path, nil)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	res, err := s.client.Do(req)
	if err != nil {
		return fmt.Errorf("directory lookup: %w", err)
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return fmt.Errorf("directory lookup: Graph answered HTTP %d", res.StatusCode)
	}
	return json.NewDecoder(res.Body).Decode(v)
}
