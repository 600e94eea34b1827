# The two commands a new user needs: `make run` and `make test` (see README.md).
PYTHON ?= python3.11
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-$(shell cat requirements.txt requirements-dev.txt | cksum | cut -d' ' -f1)
PO     := $(wildcard locale/*/LC_MESSAGES/django.po)
MO     := $(PO:.po=.mo)

.PHONY: run test test-postgres test-celery bench loadtest setup system system-test messages makemessages lint format clean worker beat

run: setup
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py seed_demo
	@echo "Serving on http://127.0.0.1:8000/  (demo users: see README.md, password 'demo')"
	$(BIN)/python manage.py runserver 127.0.0.1:8000

test: setup system-test
	$(BIN)/pytest -n 2 --dist loadgroup

bench: setup
	$(BIN)/python bench/run.py

# Locust against gunicorn + PostgreSQL + Redis (db 4) + a worker on the bench data (README, "Load test").
# Options: make loadtest LOADTEST_ARGS="--users 50 --pace 4 --time 60s" (see bench/loadtest/run.py --help).
loadtest: setup
	$(BIN)/python bench/loadtest/run.py $(LOADTEST_ARGS)

setup: system $(STAMP) $(MO)

system:
	@scripts/system-packages.sh run

system-test:
	@scripts/system-packages.sh test

$(STAMP): requirements.txt requirements-dev.txt
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "Python 3.11 is needed ($(PYTHON) not found). Set PYTHON=/path/to/python3.11"; exit 1; }
	@$(PYTHON) -c 'import venv, ensurepip' 2>/dev/null || { echo "Python's venv module is missing: sudo apt-get install python3.11-venv"; exit 1; }
	rm -f $(VENV)/.installed-*
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --disable-pip-version-check --upgrade pip
	$(BIN)/pip install -q --disable-pip-version-check -r requirements-dev.txt
	touch $@

# Compiled catalogues are built here, never committed.
%.mo: %.po
	msgfmt --check -o $@ $<

makemessages: setup
	$(BIN)/python manage.py makemessages -l zh_Hans --no-obsolete --add-location file -i '.venv/*' -i 'bench/*' -i 'tests/*'

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: setup
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

worker: setup
	$(BIN)/celery -A config worker -l info

beat: setup
	$(BIN)/celery -A config beat -l info

clean:
	rm -rf $(VENV) staticfiles
