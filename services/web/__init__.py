"""kai's web pages for people in a browser (the APIs live under ``/api/``)."""
