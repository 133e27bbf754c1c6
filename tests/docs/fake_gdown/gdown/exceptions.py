"""The exception framepred maps to its quota/refusal message, as in gdown."""


class FileURLRetrievalError(Exception):
    pass
