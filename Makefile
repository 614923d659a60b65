# fleetfix: `make demo` runs the main job against a local lab fleet (set-up
# included); `make test` runs every test (unit and lab tests, as root).
SHELL := /bin/bash
export PATH := $(PATH):/usr/local/go/bin
GO ?= go
BIN := bin/fleetfix
HOSTS ?= 3
# Built by scripts/deps.sh at the version it pins.
GOLANGCI_LINT := bin/golangci-lint

.PHONY: all deps build test unit lint demo lab-up lab-down bench clean

all: build

deps:
	./scripts/deps.sh

# A static binary (CGO_ENABLED=0: Go's own DNS resolver and user database
# reader, see the README), stamped with its VCS revision for `fleetfix
# version` (-buildvcs=auto also where GOFLAGS says -buildvcs=false; where git
# cannot read the tree, BUILDVCS=false builds unstamped). Another platform:
# make build GOARCH=arm64 BIN=bin/fleetfix-arm64.
BUILDVCS ?= $(shell git status --porcelain >/dev/null 2>&1 && echo auto || echo false)
build:
	CGO_ENABLED=0 $(GO) build -buildvcs=$(BUILDVCS) -o $(BIN) ./cmd/fleetfix

$(GOLANGCI_LINT): scripts/deps.sh
	./scripts/deps.sh tools

# gofmt, then golangci-lint with .golangci.yml (go vet is one of its linters).
lint: $(GOLANGCI_LINT)
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	  if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GOLANGCI_LINT) run ./...

# Every test: unit tests, and lab tests against real sshd and systemd hosts.
# FLEETFIX_LAB_REQUIRED makes a lab test fail, not skip, if the lab cannot run.
test: deps lint build
	FLEETFIX_LAB_REQUIRED=1 FLEETFIX_REQUIRE_SSHD=1 $(GO) test -count=1 -timeout 25m ./...

# Unit tests only, with the race detector: -short runs no lab and needs no
# root (the remote package's own sshd servers still run, as the user).
unit:
	$(GO) test -race -short -count=1 ./...

# The main job against the local lab: build; bring up $(HOSTS) hosts running
# the buggy service (a new lab gets a TimeoutStopSec of $(STOP_TIMEOUT), so
# the hang takes seconds: STOP_TIMEOUT=0 keeps systemd's 90 s); reboot them
# so their journals hold a shutdown with the hang; scan; roll the fix out,
# with its reboot: each unit's stop time before -> after.
STOP_TIMEOUT ?= 10s
INVENTORY := /var/lib/fleetfix/lab/inventory.yaml
demo: deps build
	$(BIN) lab up --hosts $(HOSTS) --stop-timeout $(STOP_TIMEOUT)
	$(BIN) reboot -i $(INVENTORY) --all
	$(BIN) scan $(INVENTORY)
	$(BIN) rollout $(INVENTORY)

lab-up: build
	$(BIN) lab up --hosts $(HOSTS)

lab-down: build
	$(BIN) lab down

# Benchmark against Ansible on a lab of its own (/var/lib/fleetfix/bench, bridge
# ffb, 10.80.0.0/16). Not part of `make test`; it never fails on speed. The full
# run takes about 30 min and needs ~16 GiB of free RAM for 500 hosts. Quick run:
# make bench BENCH="-rollout 10 -runs 3"
BENCH ?= -rollout 10,100 -runs 3 -scan 10,100,500 -profile
bench: deps build
	@command -v ansible-playbook >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq ansible-core >/dev/null; }
	$(GO) build -o bin/fleetbench ./bench/cmd/fleetbench
	$(GO) build -o bin/fleetprof ./bench/cmd/fleetprof
	bin/fleetbench -fleetfix $(BIN) -fleetprof bin/fleetprof -destroy $(BENCH)

clean:
	rm -rf bin
