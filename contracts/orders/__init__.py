"""Contract orders (activation, change, termination, renewal) and the loyalty worklist: the
back-office's work on a client's contracts. Its models live in `contracts.models` with the
rest of the app's; here are its services, selectors, pages, API and demo data."""
