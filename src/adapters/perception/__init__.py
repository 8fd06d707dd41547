"""Adapters of the hearing and seeing ports (``talia_core.shared.speech`` and
``talia_core.shared.vision``): the providers' engines, the offline ones, and what answers
when a capability has no engine configured."""
