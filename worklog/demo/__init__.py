"""The demo and the benchmark: generators of places, people and notebooks for trying the
app out (`manage.py seed`, seeding.py) and for measuring it (`seed --scale N`, scale.py),
apart from the code the app runs on."""
