"""The product's own logic, Dagster-free: sync, actions, job tracking, offers, exports, reports.

Used by the Dagster wiring (assets/, pipelines/) and the CLI alike. Imports nothing eagerly, so
`import preorders.settings` stays cheap.
"""
