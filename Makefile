# The two commands of the README: `make run` and `make test`.
.PHONY: run test tools openapi bench load bench-catalog

# Lectern on 127.0.0.1:3000 with the embedded store under .lectern/ (needs only cargo).
run:
	cargo run -p lectern-local

# The whole suite: installs its tools (moto, cfn-lint, the SAM CLI, openapi-spec-validator) under
# target/tools on first use, musl-gcc when missing (the smoke test of the deployed static build),
# node/npm (the generated TypeScript client's test; its packages come from its lockfile) and the
# fuzzer, runs every test of the workspace (the DynamoDB adapter against moto's server on loopback;
# the description validated, every black-box response checked against it, a client generated from it
# run, and fuzzed), lints the template twice:
# CloudFormation's linter, then SAM's validation of the transform (offline; no AWS account needed).
test: tools
	cargo test --workspace
	target/tools/venv/bin/cfn-lint template.yaml
	AWS_DEFAULT_REGION=us-east-1 SAM_CLI_TELEMETRY=0 target/tools/venv/bin/sam validate --lint --template template.yaml

tools:
	bash infra/scripts/install-tools.sh
	bash infra/scripts/install-musl.sh
	bash infra/scripts/install-node.sh
	bash infra/scripts/install-fuzzer.sh

# Regenerates docs/openapi.json from the code.
openapi:
	cargo run -q -p lectern-local -- openapi > docs/openapi.json

# The performance harness (docs/performance.md): cold start, warm latency, memory and package size of
# every function against a hello-world floor, then a load run against the local server.
bench:
	cargo run -p lectern-bench --release -- bench

load:
	cargo run -p lectern-bench --release -- load

# Catalog pages at 100, 1,000 and 10,000 courses: latency and items read per page.
bench-catalog:
	cargo run -p lectern-bench --release -- catalog

# The Lambda packages, for `sam build`: every function of template.yaml has `BuildMethod: makefile`,
# and SAM runs `make build-<LogicalId>` with ARTIFACTS_DIR set (samconfig.toml has it build in this
# folder, so cargo's cache is shared). Each function is a static musl binary for arm64 (a static PIE:
# .cargo/config.toml): with no dynamic loader to run and no shared libraries to map, it starts 0.5–1 ms
# sooner here than the same code linked against glibc (docs/performance.md, item 24). Needs
# cargo-lambda, zig (pip install ziglang) and `rustup target add aarch64-unknown-linux-musl`.
LAMBDA_TARGET ?= aarch64-unknown-linux-musl
LAMBDA_DIR = $(or $(CARGO_TARGET_DIR),target)/lambda

# $(call lambda,<package>,<binary>): the package is named because the workspace's default member is
# the local server, and cargo looks for a bare --bin in the default members only.
define lambda
	cargo lambda build --release --target $(LAMBDA_TARGET) --package $(1) --bin $(2)
	cp $(LAMBDA_DIR)/$(2)/bootstrap "$(ARTIFACTS_DIR)/bootstrap"
endef

LAMBDA_FUNCTIONS = AuthFunction UsersFunction CoursesFunction AssignmentsFunction FilesFunction \
	PaymentsFunction StripeWebhookFunction PaymentEventsWorker PaymentConfirmationWorker \
	EventRouterFunction
.PHONY: $(addprefix build-,$(LAMBDA_FUNCTIONS))

build-AuthFunction:
	$(call lambda,auth-function,auth-function)
build-UsersFunction:
	$(call lambda,users-function,users-function)
build-CoursesFunction:
	$(call lambda,courses-function,courses-function)
build-AssignmentsFunction:
	$(call lambda,assignments-function,assignments-function)
build-FilesFunction:
	$(call lambda,files-function,files-function)
build-PaymentsFunction:
	$(call lambda,payments-function,payments-function)
build-StripeWebhookFunction:
	$(call lambda,payments-function,stripe-webhook)
build-PaymentEventsWorker:
	$(call lambda,payment-workers-function,payment-events-worker)
build-PaymentConfirmationWorker:
	$(call lambda,payment-workers-function,payment-confirmation-worker)
build-EventRouterFunction:
	$(call lambda,events-function,events-function)
