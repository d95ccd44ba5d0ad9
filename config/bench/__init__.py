"""The benchmark's data set (`seed_demo --scale national`, `make bench`): part of config's roof,
imported only by the `seed_demo` command, never by the apps or the floor."""
