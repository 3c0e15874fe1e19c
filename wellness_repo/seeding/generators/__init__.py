"""Synthetic record generators, one module per area of the platform. Each
generator is a pure function of a :class:`~wellness_repo.seeding.world.FixtureWorld`
that yields one owner's records (a provider's, a patient's) at a time."""
