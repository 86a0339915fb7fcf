# Two entry points (see README.md):
#   make book   build the whole book, executing every notebook, into _build/html
#   make test   unit tests, doctests, nbval over every notebook, ruff, strict book build
# Both create the virtual environment .venv and install requirements.txt on first use.

PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-$(shell cat requirements.txt pyproject.toml | cksum | cut -d' ' -f1)

export INFOCOMPRESS_QUIET ?= 1
export MPLBACKEND ?= Agg
export PYDEVD_DISABLE_FILE_VALIDATION = 1

.PHONY: book test venv unit nbval lint book-stored clean

venv: $(STAMP)

$(STAMP): requirements.txt pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet -r requirements.txt
	rm -f $(VENV)/.installed-*
	touch $@

book: $(STAMP)
	$(BIN)/jupyter-book build . --all -W -n --keep-going

test: lint unit nbval book-stored

lint: $(STAMP)
	$(BIN)/ruff check lib tests notebooks

unit: $(STAMP)
	$(BIN)/python -m pytest -p no:cacheprovider tests --doctest-modules lib

nbval: $(STAMP)
	$(BIN)/python -m pytest -p no:cacheprovider --nbval-lax --nbval-current-env \
		--nbval-cell-timeout=1200 notebooks

# Strict build from the stored notebook outputs (nbval has just re-executed them).
book-stored: $(STAMP)
	mkdir -p _build
	sed 's/^\(  *execute_notebooks:\).*/\1 "off"/' _config.yml > _build/_config_stored.yml
	$(BIN)/jupyter-book build . --config _build/_config_stored.yml --path-output _build/stored \
		--all -W -n --keep-going

clean:
	rm -rf _build
