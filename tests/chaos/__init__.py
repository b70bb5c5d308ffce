"""The chaos suite: a private platform under paced load and injected faults, then checked from its
own databases (`make chaos` long, tests/test_chaos.py short in `make test`)."""
