"""voiceguide: talks you through a timed routine while music plays, hands free."""

__version__ = "0.1.0"
