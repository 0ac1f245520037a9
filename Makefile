# Convenience wrappers; the README commands are the scripts themselves.
.PHONY: setup test main bench clean

setup:
	bash scripts/setup.sh

test:
	bash scripts/test.sh $(ARGS)

main:
	bash scripts/main.sh $(ARGS)

bench:
	bash scripts/bench.sh $(ARGS)

# Removes build/test caches and the virtual environment.
clean:
	rm -rf .venv build dist *.egg-info .pytest_cache .hypothesis
	find . -name __pycache__ -type d -prune -not -path "./.git/*" -exec rm -rf {} +
