"""Personal-data protection: personal fields of events sealed with a key per person
(:mod:`.crypto`), keys kept in a pluggable key store (:mod:`.keystore`), sealed and opened at one
hook of the event path (:mod:`.protector`), the fields listed in one table (:mod:`.personal`),
and a person's erasure applied to the services' projections (:mod:`.erasure`)."""
