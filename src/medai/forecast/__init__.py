"""Forecasting: outbreak forecasts in the CDC FluSight hub format, and hospital census, ICU and staffing forecasts.

Every forecaster returns a :class:`~medai.forecast.quantiles.QuantileForecast` (the hubs' 23 quantile
levels per series and horizon) and is scored with the weighted interval score
(:mod:`medai.evaluate.wis`). Layout, as in every medai application:

* ``task`` (flu: hub rows -> weekly panel as known on the as-of date, vintages), ``census`` (census
  rows from CSV, the HHS state file or FHIR Encounters), ``panel`` (the shared series container);
* models: ``baseline`` (hub-style flat baseline), ``statistical`` (statsforecast), ``network`` (global
  deep quantile model, PyTorch), ``model`` (the ensemble), ``recipes`` (the shipped configurations),
  ``los`` / ``scenario`` (admissions -> census through length of stay), ``staffing`` (nurse ratios,
  capacity shortfall);
* ``predict`` (package loading, the forecasts behind CLI and API), ``train``, ``evaluate`` /
  ``backtests`` (rolling-origin backtests), ``hub`` (the hub's CSV layout), ``store`` and ``refresh``
  (stored runs and the scheduled job), ``knowledge`` / ``auxiliary`` (hub locations, staffing ratios,
  ILINet training series).

Heavy dependencies (statsforecast, PyTorch) load lazily: ``pip install 'medai[forecast]'``.
"""
