"""The typed statistics of each command's report: small records with one ``to_dict()``.

Reports fill them, checks and every output format read their attributes, and
``Report.to_dict()`` turns them into the JSON contract. They import nothing heavy, so renderers
and the gate can use them freely.
"""
