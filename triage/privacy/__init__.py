"""Personal data kept lawfully (UK GDPR): private files, retention, subject access, erasure.

files: the data directory, database and exports readable by the service's user only.
retention: closed items' personal data deleted after the council's period (Art. 5(1)(e)).
subject_access: everything about one person, exported for a subject access request (Art. 15).
erasure: one message's personal data removed everywhere, a tombstone kept (Art. 16, 17).
"""
