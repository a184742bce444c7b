# m365snow — two commands matter: `make sandbox` and `make test`.
GO      ?= go
BIN     ?= bin
PKGS    := ./...

.PHONY: test features sandbox compose compose-smoke build bench soak fmt fmt-check vet clean help

help: ## list targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed 's/:.*## /\t/' | expand -t 18

test: fmt-check vet ## gofmt check, go vet, and every test with the race detector
	$(GO) test -race -count=1 $(PKGS)

features: ## the conformance suite: pretty output, Cucumber JSON and JUnit XML in reports/ (TAGS=@aad to pick)
	cd features && $(GO) test -count=1 -run '^TestFeatures$$' \
		-godog.format=pretty,cucumber:$(CURDIR)/reports/cucumber.json,junit:$(CURDIR)/reports/junit.xml \
		$(if $(TAGS),-godog.tags='$(TAGS)')

sandbox: ## run the three fakes with a world and print how to use it (WORLD=integrated-aad, ARGS=--list-worlds)
	$(GO) run ./cmd/sandbox $(if $(WORLD),--world $(WORLD)) $(ARGS)

COMPOSE ?= $(shell docker compose version >/dev/null 2>&1 && echo "docker compose" || echo docker-compose)

compose: build ## the three fakes as docker compose services on 127.0.0.1:8080-8082 (docs/compose.md)
	@M365SNOW_ADMIN_TOKEN=$${M365SNOW_ADMIN_TOKEN:-$$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')}; export M365SNOW_ADMIN_TOKEN; \
	echo "control plane (/__admin/) token: $$M365SNOW_ADMIN_TOKEN"; \
	$(COMPOSE) up --build

compose-smoke: ## image, services, health and a round trip through the published ports; "skipped" without an engine
	bash scripts/compose-smoke.sh

build: ## static binaries in bin/
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags='-s -w' -o $(BIN)/ ./cmd/...

soak: ## bounded mixed load across the three fakes on loopback, then an adversarial user (SOAK_DURATION=60s; docs/benchmarks.md)
	$(GO) run ./cmd/soak --duration $(or $(SOAK_DURATION),60s)

bench: ## Go benchmarks (numbers go to docs/benchmarks.md)
	$(GO) test -run '^$$' -bench . -benchmem $(PKGS)

fmt: ## rewrite files with gofmt
	gofmt -w .

fmt-check:
	@out=$$(gofmt -l .); if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi

vet:
	$(GO) vet $(PKGS)

clean: ## remove build output
	rm -rf $(BIN) reports
