"""What an engine hands a report: engine-neutral records of aggregates and the requests for them.

An engine (:mod:`abtool.engines`) reduces a log to these records; the reports compute every
statistic from them alone. Numpy arrays appear only where a statistic needs values, never a
DataFrame of any engine.
"""
