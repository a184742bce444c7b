package features

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/cucumber/godog"
	"gopkg.in/yaml.v3"

	"github.com/m365snow/m365snow/internal/clock"
	"github.com/m365snow/m365snow/internal/fixture"
	"github.com/m365snow/m365snow/world"
)

func worldSteps(s *godog.ScenarioContext) {
	s.Step(`^the world "([^"]+)"(?:: .*)?$`, func(ctx context.Context, name string) (context.Context, error) {
		if sc := from(ctx); sc.vendorSkip != "" {
			return sc.skipped(ctx)
		}
		return ctx, startWorld(ctx, name, "")
	})
	s.Step(`^the world "([^"]+)" with the app installed without its Application Cross-Scope Access records$`, func(ctx context.Context, name string) (context.Context, error) {
		if sc := from(ctx); sc.vendorSkip != "" {
			return sc.skipped(ctx)
		}
		// The install is where this cause happens: the fake's install
		// option is the only way to reproduce it.
		return ctx, startWorld(ctx, name, "app: {crossScopeAccessMissing: true}")
	})
	s.Step(`^(\d+) (minutes|hours|days) pass$`, timePasses)
	s.After(func(ctx context.Context, _ *godog.Scenario, _ error) (context.Context, error) {
		if sc, ok := ctx.Value(scenarioKey{}).(*scenario); ok && sc.w != nil {
			if sc.cfg.fronts != nil {
				sc.cfg.fronts.use(nil)
			}
			_ = sc.w.Close()
		}
		return ctx, nil
	})
}

// startWorld runs a shipped world for this scenario alone; snow, when set,
// is laid over the world's snow: section.
func startWorld(ctx context.Context, name, snow string) error {
	sc := from(ctx)
	if sc.w != nil {
		return fmt.Errorf("the scenario already has a world")
	}
	f, err := world.Load(name)
	if err != nil {
		return err
	}
	if snow != "" {
		var over yaml.Node
		if err := yaml.Unmarshal([]byte(snow), &over); err != nil {
			return err
		}
		f.Snow = fixture.MergeNode(f.Snow, over)
	}
	opts := world.Options{Fixture: f}
	if sc.external {
		// The world listens on :0; the run's fronts at the fixed
		// addresses pass the connector's requests to it.
		opts.ConnectorURL = sc.cfg.connectorURL
		opts.Listening = sc.cfg.fronts.use
		// The connector build keeps wall-clock time and checks token
		// lifetimes against it: the fakes must agree with it.
		opts.Clock = &clock.Offset{}
		// The instance keeps a clock of its own, which the suite moves
		// so that the tokens it issued to the connector expire.
		opts.InstanceClock = &clock.Offset{}
	}
	w, err := world.Start(opts)
	if err != nil {
		return err
	}
	sc.w = w
	return nil
}

func timePasses(ctx context.Context, n, unit string) error {
	v, err := strconv.Atoi(n)
	if err != nil {
		return err
	}
	d := map[string]time.Duration{"minutes": time.Minute, "hours": time.Hour, "days": 24 * time.Hour}[unit]
	from(ctx).w.Clock.Advance(time.Duration(v) * d)
	return nil
}
