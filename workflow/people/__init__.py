"""The organisation, its staff and user accounts; moving staff moves their open tickets."""
