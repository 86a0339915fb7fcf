# Two entry points (see README.md):
#   make book   build the whole book, executing every notebook, into _build/html
#   make test   ruff, unit tests, doctests, JupyterLab on one chapter, nbval over every
#               notebook, strict book build, headless-browser check of the pages
# Both create the virtual environment .venv and install requirements.txt on first use.

PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-$(shell cat requirements.txt pyproject.toml | cksum | cut -d' ' -f1)

export INFOCOMPRESS_QUIET ?= 1
export PYDEVD_DISABLE_FILE_VALIDATION = 1
# Portable numerics: torch's kernels and MKL run their AVX2 code paths on every x86 CPU, so
# the trained networks (hence the stored outputs) are the same on AVX2 and AVX-512
# machines (see infocompress.nets.PORTABLE_NUMERICS).
export ATEN_CPU_CAPABILITY ?= avx2
export MKL_CBWR ?= AVX2

.PHONY: book test venv unit lab nbval lint book-stored book-student mathjax render chromium seed-audit \
	perturbation-audit clean

# MathJax is bundled into the book (no CDN): fetched once from the npm registry.
MATHJAX_VERSION := 3.2.2
MATHJAX := book/_static/mathjax/tex-chtml.js

venv: $(STAMP)

$(STAMP): requirements.txt pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet -r requirements.txt
	rm -f $(VENV)/.installed-*
	touch $@

mathjax: $(MATHJAX)

$(MATHJAX):
	rm -rf _build/mathjax-pkg && mkdir -p _build/mathjax-pkg book/_static/mathjax
	cd _build/mathjax-pkg && npm pack --silent mathjax@$(MATHJAX_VERSION) > /dev/null
	tar xzf _build/mathjax-pkg/mathjax-$(MATHJAX_VERSION).tgz -C _build/mathjax-pkg
	cp -r _build/mathjax-pkg/package/es5/. book/_static/mathjax/
	rm -rf _build/mathjax-pkg

book: $(STAMP) $(MATHJAX)
	$(BIN)/jupyter-book build . --all -W -n --keep-going

test: lint unit lab nbval book-stored book-student render

lint: $(STAMP)
	$(BIN)/ruff check lib tests notebooks benchmarks book/_ext

unit: $(STAMP)
	$(BIN)/python -m pytest -p no:cacheprovider tests --ignore=tests/render --doctest-modules lib

# Re-execute every notebook and compare every text output with the stored one: the
# assertions inside the cells run again, and the stored outputs are shown to be exactly what
# the committed code produces (a second execution gives identical numbers).
nbval: $(STAMP)
	$(BIN)/python -m pytest -p no:cacheprovider --nbval --nbval-current-env \
		--nbval-sanitize-with tests/nbval_sanitize.cfg --nbval-cell-timeout=1200 notebooks

# Strict build from the stored notebook outputs (nbval has just re-executed them).
book-stored: $(STAMP) $(MATHJAX)
	mkdir -p _build
	sed -e 's/^\(  *execute_notebooks:\).*/\1 "off"/' \
		-e 's|^\(    status_table:\) book/_ext|\1 ../book/_ext|' _config.yml > _build/_config_stored.yml
	$(BIN)/jupyter-book build . --config _build/_config_stored.yml --path-output _build/stored \
		--all -W -n --keep-going

# The student edition: the same strict build from stored outputs with every solution
# removed (sphinx-exercise's hide_solutions) and no copy of the notebook sources (whose
# markdown holds the solutions, and which the download button would offer); tests/render
# checks that no solution is left on a page or in a file of the build.
book-student: $(STAMP) $(MATHJAX)
	mkdir -p _build
	sed -e 's/^\(  *execute_notebooks:\).*/\1 "off"/' \
		-e 's/^\(  *\)hide_solutions:.*/\1hide_solutions: true\n\1html_copy_source: false\n\1html_theme_options: {use_download_button: false}/' \
		-e 's|^\(    status_table:\) book/_ext|\1 ../book/_ext|' _config.yml > _build/_config_student.yml
	grep -q '^ *hide_solutions: true' _build/_config_student.yml
	$(BIN)/jupyter-book build . --config _build/_config_student.yml --path-output _build/student \
		--all -W -n --keep-going

# Headless Chromium with the network off over the strictly built pages (tests/render).
render: $(STAMP) chromium
	INFOCOMPRESS_REQUIRE_RENDER=1 INFOCOMPRESS_HTML=_build/stored/_build/html \
		INFOCOMPRESS_STUDENT_HTML=_build/student/_build/html $(BIN)/python -m pytest -p no:cacheprovider tests/render/test_book_render.py -q

# The README's interactive command: `jupyter lab` from the venv opens a chapter, headless
# Chromium runs its first cells through the JupyterLab UI and compares their printed output
# with the stored one; the server is shut down and no process may outlive it.
lab: $(STAMP) chromium
	INFOCOMPRESS_REQUIRE_RENDER=1 \
		$(BIN)/python -m pytest -p no:cacheprovider tests/render/test_jupyterlab.py -q

# Statistical audit (slow, not part of `make test`): every chapter re-executed under five
# further seeds (each seed of the MNIST chapters trains two new ensembles: several hours on
# 2 cores in all); the outcome feeds the book's audit appendix. One seed of one chapter:
# make seed-audit AUDIT_K="nn_fig1 and alt1".
seed-audit: $(STAMP)
	INFOCOMPRESS_SEED_AUDIT_JSON=benchmarks/results/seed_audit.json \
		$(BIN)/python -m pytest -p no:cacheprovider -m slow tests/test_seed_audit.py -v \
		$(if $(AUDIT_K),-k "$(AUDIT_K)")

# Power audit (slow, about 10 min on 2 cores; not part of `make test`): every chapter executed
# once with each theory value perturbed by +-10%; records which check rows would have failed.
perturbation-audit: $(STAMP)
	INFOCOMPRESS_PERTURB_AUDIT_JSON=benchmarks/results/perturbation_audit.json \
		$(BIN)/python -m pytest -p no:cacheprovider -m slow tests/test_perturbation_audit.py -v

chromium:
	@command -v chromium > /dev/null && command -v chromedriver > /dev/null || { \
		echo "installing Debian's chromium and chromium-driver for the browser test"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
			chromium chromium-driver > /dev/null; }

clean:
	rm -rf _build
