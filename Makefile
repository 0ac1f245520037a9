# Convenience wrappers; the README commands are the scripts themselves.
.PHONY: setup test main bench docs docs-check clean

setup:
	bash scripts/setup.sh

test:
	bash scripts/test.sh $(ARGS)

main:
	bash scripts/main.sh $(ARGS)

bench:
	bash scripts/bench.sh $(ARGS)

# The documentation site, built into site/ (mkdocs build --strict).
docs:
	bash scripts/docs.sh $(ARGS)

# Builds the site, then looks at it in headless Chromium (screenshots, checks).
docs-check:
	bash scripts/docs_check.sh $(ARGS)

# Removes build/test caches and the virtual environment.
clean:
	rm -rf .venv build dist *.egg-info .pytest_cache .hypothesis site .cache
	find . -name __pycache__ -type d -prune -not -path "./.git/*" -exec rm -rf {} +
