# m365snow — two commands matter: `make sandbox` and `make test`.
GO      ?= go
BIN     ?= bin
PKGS    := ./...

.PHONY: test features vendor-check sandbox compose compose-smoke build bench soak fmt fmt-check vet clean help mutate

help: ## list targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed 's/:.*## /\t/' | expand -t 18

test: fmt-check vet ## gofmt check, go vet, and every test with the race detector
	@command -v "$${M365SNOW_CHROMIUM:-chromium}" >/dev/null 2>&1 || echo "make test: skipping the console's browser tests (TestConsoleInBrowser): no Chromium (apt-get install chromium, or M365SNOW_CHROMIUM=/path/to/chrome)"
	$(GO) test -race -count=1 $(PKGS)

features: ## the conformance suite: pretty output, Cucumber JSON, JUnit XML and an HTML page in reports/ (TAGS=@aad to pick)
	cd features && $(GO) test -count=1 -run '^TestFeatures$$' \
		-godog.format=pretty,cucumber:$(CURDIR)/reports/cucumber.json,junit:$(CURDIR)/reports/junit.xml,html:$(CURDIR)/reports/report.html \
		$(if $(TAGS),-godog.tags='$(TAGS)')

CONNECTOR_URL  ?=
AAD_LISTEN     ?= 127.0.0.1:8081
SNOW_LISTEN    ?= 127.0.0.1:8080
VENDOR_REPORTS ?= reports/vendor

vendor-check: ## your connector build against the contract test and the suite: CONNECTOR_URL=http://127.0.0.1:9000 (docs/vendor-mode.md)
	@test -n "$(CONNECTOR_URL)" || { echo "usage: make vendor-check CONNECTOR_URL=http://127.0.0.1:9000 [AAD_LISTEN=$(AAD_LISTEN)] [SNOW_LISTEN=$(SNOW_LISTEN)]"; exit 2; }
	@mkdir -p $(VENDOR_REPORTS)
	M365SNOW_CONNECTOR_URL=$(CONNECTOR_URL) M365SNOW_AAD_LISTEN=$(AAD_LISTEN) \
		$(GO) test -count=1 -run '^TestVendorConnector$$' -v ./fakem365/contracttest
	cd features && M365SNOW_CONNECTOR_URL=$(CONNECTOR_URL) M365SNOW_AAD_LISTEN=$(AAD_LISTEN) M365SNOW_SNOW_LISTEN=$(SNOW_LISTEN) \
		$(GO) test -count=1 -run '^TestFeatures$$' -v \
		-godog.format=progress,cucumber:$(abspath $(VENDOR_REPORTS))/cucumber.json,junit:$(abspath $(VENDOR_REPORTS))/junit.xml

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

mutate: ## mutation testing of the security core, gremlins v0.6.0, one package at a time (slow: docs/testing.md; MUTATE_PKGS= to pick)
	bash scripts/mutate.sh

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
