# Kassa: the two commands a shop owner needs are `make run` and `make test`.
GO        ?= go
BIN       := bin
DATA_DIR  ?= ./data
PLUGINS   := testpay banktransfer invoice-standard notify-email notify-webhook wechatpay alipay unionpay paypal stripe
VERSION   ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS   := -s -w -X github.com/kassahq/kassa/core/app.Version=$(VERSION)
export CGO_ENABLED ?= 0

.PHONY: run build plugins install-plugins admin test test-short bench lint proto clean

## run: build kassa and the reference plugins, install the plugins, seed the demo shop on first run and serve on http://127.0.0.1:8080
run: build install-plugins
	KASSA_DATA_DIR=$(DATA_DIR) $(BIN)/kassa serve --seed-demo

## build: build the kassa binary into bin/
build:
	$(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN)/kassa ./cmd/kassa

## plugins: build the reference plugins into bin/plugins/
plugins:
	@mkdir -p $(BIN)/plugins
	@for p in $(PLUGINS); do \
		if [ -d plugins/$$p ]; then $(GO) build -trimpath -ldflags '-s -w' -o $(BIN)/plugins/$$p ./plugins/$$p || exit 1; fi; \
	done

## install-plugins: install the built reference plugins into the data directory (records their sha256); says what changed, nothing when nothing did
install-plugins: build plugins
	@set --; for p in $(PLUGINS); do if [ -x $(BIN)/plugins/$$p ]; then set -- "$$@" $(BIN)/plugins/$$p; fi; done; \
	if [ $$# -gt 0 ]; then KASSA_DATA_DIR=$(DATA_DIR) $(BIN)/kassa plugin install --replace --quiet "$$@"; fi

## admin: rebuild the web admin into admin/dist (committed; embedded in the binary unless built with -tags no_ui)
admin:
	cd admin && npm ci && npm run build

## test: run the whole test suite (root module and the plugin SDK module)
test:
	$(GO) test -count=1 -timeout 30m ./...
	cd plugins/sdk && $(GO) test -count=1 ./...

## test-short: skip the slow tests
test-short:
	$(GO) test -short ./...

## bench: run the Go benchmarks (figures go to BENCHMARKS.md)
bench:
	$(GO) test -run '^$$' -bench . -benchmem ./...
	cd plugins/sdk && $(GO) test -run '^$$' -bench . -benchmem ./...

## lint: gofmt check and go vet on both modules
lint:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	cd plugins/sdk && $(GO) vet ./...

## proto: regenerate the plugin protocol code (pinned protoc-gen-go versions)
proto:
	./plugins/proto/gen.sh

clean:
	rm -rf $(BIN)
