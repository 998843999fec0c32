-- Rasa's tracker store gets a database of its own beside the consultation log (POSTGRES_DB=hotline).
CREATE DATABASE rasa OWNER hotline;
