# Team Worklog: `make run` serves the demo, `make test` runs the whole suite.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test install demo-password clean bench

install: $(VENV)/.installed

$(VENV)/.installed: requirements.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements.txt
	touch $@

run: install
	$(BIN)/python manage.py migrate --noinput
	@password=$$($(BIN)/python -c 'import secrets; print(secrets.token_urlsafe(12))'); \
	$(BIN)/python manage.py seed --demo-password "$$password" && \
	echo "" && \
	echo "Demo accounts (password for all: $$password):" && \
	echo "  admin, coordinator, coordinator-manas, leader-kaiganqi, member-kaiganqi, leader-shayibake, member-shayibake," && \
	echo "  leader-lucaogou, member-lucaogou, leader-dawanzi, member-dawanzi" && \
	echo "Serving http://$(HOST):$(PORT)/" && echo ""
	$(BIN)/python manage.py runserver $(HOST):$(PORT)

test: install
	$(BIN)/python -m pytest

# Scale benchmark on PostgreSQL (bench/README.md): its own database, server and clean-up.
bench: install
	$(BIN)/python bench/harness.py

clean:
	rm -rf $(VENV) db.sqlite3 staticfiles .pytest_cache .hypothesis
