package fakem365

import (
	"fmt"
	"sort"
	"strings"

	"github.com/google/uuid"
	"gopkg.in/yaml.v3"

	"github.com/m365snow/m365snow/internal/fixture"
)

// Fixture is the m365: section of a world fixture; fixtures/README.md
// documents it for people.
type Fixture struct {
	// ConnectorSecret is the connector's own client secret, with which it
	// reads tenants' directories (it must match the aad: section's).
	ConnectorSecret string           `yaml:"connectorSecret,omitempty"`
	Tenants         []TenantFixture  `yaml:"tenants,omitempty"`
	Solutions       []Solution       `yaml:"solutions,omitempty"`
	Health          []HealthIncident `yaml:"serviceHealth,omitempty"` // for every tenant
	Cases           []Case           `yaml:"cases,omitempty"`
	NextCaseNumber  int              `yaml:"nextCaseNumber,omitempty"`
	// InboundCalls is the journal of calls into instances (GET
	// /__admin/inbound), oldest first; exports carry it so that what the
	// connector did before a save can still be inspected after a restore.
	InboundCalls []InboundCall `yaml:"inboundCalls,omitempty"`
}

// TenantFixture is one tenant's admin-portal state.
type TenantFixture struct {
	ID           string           `yaml:"id"`
	Domains      []string         `yaml:"domains,omitempty"`
	Integration  *Integration     `yaml:"supportIntegration,omitempty"`
	Repositories []*Repository    `yaml:"repositories,omitempty"`
	Health       []HealthIncident `yaml:"serviceHealth,omitempty"`
}

// ParseFixture decodes an m365: section.
func ParseFixture(n *yaml.Node) (*Fixture, error) {
	var f Fixture
	if err := fixture.Section(n, &f); err != nil {
		return nil, fmt.Errorf("m365: %w", err)
	}
	return &f, nil
}

// state is the whole of one fakem365.
type state struct {
	tenants   map[string]*tenant // by GUID
	solutions []Solution
	health    []HealthIncident
	cases     map[string]*Case  // by case number
	tenantOf  map[string]string // case number → tenant GUID
	nextCase  int
}

func (f *Fixture) build() (*state, error) {
	s := &state{tenants: map[string]*tenant{}, cases: map[string]*Case{}, tenantOf: map[string]string{},
		solutions: f.Solutions, health: f.Health, nextCase: f.NextCaseNumber}
	if s.nextCase == 0 {
		s.nextCase = 1
	}
	for _, tf := range f.Tenants {
		id, err := uuid.Parse(tf.ID)
		if err != nil {
			return nil, fmt.Errorf("m365 tenant %q is not a GUID", tf.ID)
		}
		t := &tenant{ID: id.String(), Integration: tf.Integration, Repositories: map[string]*Repository{}, Health: tf.Health}
		for _, d := range tf.Domains {
			t.Domains = append(t.Domains, strings.ToLower(d))
		}
		if t.Integration != nil {
			if err := validIntegration(t.Integration); err != nil {
				return nil, fmt.Errorf("m365 tenant %s: %w", t.ID, err)
			}
		}
		for _, r := range tf.Repositories {
			if err := r.validate(); err != nil {
				return nil, fmt.Errorf("m365 tenant %s: %w", t.ID, err)
			}
			cp := *r
			t.Repositories[r.ID] = &cp
		}
		if s.tenants[t.ID] != nil {
			return nil, fmt.Errorf("m365 tenant %s listed twice", t.ID)
		}
		s.tenants[t.ID] = t
	}
	for i := range f.Cases {
		c := f.Cases[i]
		owner := ""
		for _, t := range s.tenants {
			if t.Repositories[c.Repository] != nil {
				owner = t.ID
			}
		}
		if owner == "" {
			return nil, fmt.Errorf("m365 case %s: no tenant has repository %s", c.Number, c.Repository)
		}
		s.cases[c.Number] = &c
		s.tenantOf[c.Number] = owner
	}
	return s, nil
}

func (s *state) export(connectorSecret string) *Fixture {
	f := &Fixture{ConnectorSecret: connectorSecret, Solutions: s.solutions, Health: s.health, NextCaseNumber: s.nextCase}
	ids := make([]string, 0, len(s.tenants))
	for id := range s.tenants {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		t := s.tenants[id]
		tf := TenantFixture{ID: t.ID, Domains: t.Domains, Integration: t.Integration, Health: t.Health}
		rids := make([]string, 0, len(t.Repositories))
		for rid := range t.Repositories {
			rids = append(rids, rid)
		}
		sort.Strings(rids)
		for _, rid := range rids {
			cp := *t.Repositories[rid]
			tf.Repositories = append(tf.Repositories, &cp)
		}
		f.Tenants = append(f.Tenants, tf)
	}
	nums := make([]string, 0, len(s.cases))
	for n := range s.cases {
		nums = append(nums, n)
	}
	sort.Strings(nums)
	for _, n := range nums {
		f.Cases = append(f.Cases, *s.cases[n])
	}
	return f
}

func validIntegration(in *Integration) error {
	if in.InternalSupportTool != "ServiceNow" {
		return fmt.Errorf("internalSupportTool %q: this fake models the ServiceNow integration only", in.InternalSupportTool)
	}
	if _, err := uuid.Parse(in.ApplicationID); err != nil {
		return fmt.Errorf("applicationId %q is not a GUID (it is the Outbound App ID from the instance's Setup)", in.ApplicationID)
	}
	return nil
}
