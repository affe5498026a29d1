"""The office inbox: listing and searching submissions, processing them, exports and retention.

``services`` (queries, the workflow's transition table, search), ``views`` (the
``staff_inbox`` blueprint under ``/staff/<commune>/``), ``exports`` (ZIP, CSV, XLSX),
``retention`` (``flask submissions purge``), ``search`` (the full-text DDL).
"""
