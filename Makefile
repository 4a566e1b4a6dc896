# The two commands of the README: `make run` and `make test`.
.PHONY: run test tools openapi bench load

# Lectern on 127.0.0.1:3000 with the embedded store under .lectern/ (needs only cargo).
run:
	cargo run -p lectern-local

# The whole suite: installs its tools (moto, cfn-lint) under target/tools on first use, runs every
# test of the workspace (the DynamoDB adapter against moto's server on loopback), lints the template.
test: tools
	cargo test --workspace
	target/tools/venv/bin/cfn-lint template.yaml

tools:
	bash infra/scripts/install-tools.sh

# Regenerates docs/openapi.json from the code.
openapi:
	cargo run -q -p lectern-local -- openapi > docs/openapi.json

# The performance harness (docs/performance.md): cold start, warm latency, memory and package size of
# every function against a hello-world floor, then a load run against the local server.
bench:
	cargo run -p lectern-bench --release -- bench

load:
	cargo run -p lectern-bench --release -- load
