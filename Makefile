# nti: the two entry points of the README, plus helpers.
SHELL := /bin/bash
export OMPI_ALLOW_RUN_AS_ROOT := 1
export OMPI_ALLOW_RUN_AS_ROOT_CONFIRM := 1
NP ?= 2
RESULTS ?= results
# Python with numpy and h5py: the system interpreter, where .ci/setup.sh installs python3-numpy and
# python3-h5py (a pyenv or venv `python3` earlier on PATH usually lacks them).
PYNUM ?= $(shell [ -x /usr/bin/python3 ] && echo /usr/bin/python3 || echo python3)

.PHONY: setup build quickstart test h5md-check slurm-test validate bench clean

setup:
	bash .ci/setup.sh

build: setup
	cargo build --release

# Main job on the embedded default input: the whole pipeline on 2 MPI ranks; prints beta A_ex by
# Neural TI beside the conventional TI/MBAR baseline and the LJ equations of state.
quickstart: build
	mkdir -p $(RESULTS)
	mpirun --oversubscribe -np $(NP) target/release/nti run inputs/quickstart.toml \
	  --set output.file=\"$(RESULTS)/quickstart-$$(date +%Y%m%d-%H%M%S).h5\"

# Whole test suite: unit, integration, MPI (2 and 3 ranks) tests and the quick validation subset.
test: build
	cargo test --release
	python3 validation/nist_table.py --quick --nti target/release/nti
	python3 validation/widom_eos.py --quick --nti target/release/nti
	python3 validation/neural_ti_lj.py --quick --nti target/release/nti
	python3 validation/paper_lj/a_of_n.py --self-test
	python3 validation/paper_lj/free_energy.py --quick --nti target/release/nti
	$(PYNUM) validation/paper_lj/rdf_stats.py --self-test
	$(PYNUM) validation/paper_lj/run.py --quick --nti target/release/nti --out $(RESULTS) \
	  --generate 'corrector_t=[0.3]' --generate corrector_steps=4

# MDAnalysis (from PyPI, in a cached virtual environment) opens an nti H5MD trajectory as written
# and its InterRDF equals nti's stored g(r) (validation/h5md_mdanalysis.py). Needs PyPI access.
h5md-check: build
	bash validation/h5md_mdanalysis.sh

# A real single-node Slurm (Debian's slurm-wlm and munge, installed and started by the script; as
# root): jobscripts/train.slurm signalled during training requeues itself and ends bitwise equal to
# an uninterrupted run; a bad input fails fast with exit code 2; jobscripts/run.slurm (the whole
# pipeline) signalled inside a sampling replica requeues itself, resumes the replica and ends with
# every file bitwise equal to an uninterrupted run (validation/slurm_test.sh).
slurm-test: build
	bash validation/slurm_test.sh

# Full validation against NIST SRSW and the equations of state (tens of minutes).
validate: build
	python3 validation/nist_table.py --nti target/release/nti
	python3 validation/widom_eos.py --nti target/release/nti

# MD and MC throughput side by side with LAMMPS.
bench: setup
	NTI_WITH_LAMMPS=1 bash .ci/setup.sh
	bash validation/bench_md_lammps.sh

clean:
	cargo clean
