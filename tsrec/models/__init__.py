"""Recommenders. ``base`` is the contract (``Scorer``, ``Recommender``); then classic models (``popularity``,
``knn``, ``covisit`` time-windowed co-visitation, ``content``), matrix factorisation (``mf`` BPR-MF, ``rating``
biased MF and timeSVD++), the sequence models (``sequential``), the generative model (``generative``) and the
feed's freshness-aware and follow-graph scorers (``freshness``). None of them imports the trainer or the
evaluator: ``tsrec.training`` trains the torch ones and ``tsrec.evaluate`` ranks with their ``score``."""
