from jinja2 import Environment, FileSystemLoader, StrictUndefined

env = Environment(loader=FileSystemLoader("sql"), undefined=StrictUndefined)
print(env.get_template("daily_revenue.sql.j2").render(ds="2024-05-01", target_schema="analytics"))
