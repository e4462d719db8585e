"""Jinja templates that render a :class:`~medai.models.ModelCard` (kept in code so they ship with the module).

Both templates receive ``card`` and ``plots``, a list of ``(title, image source)`` pairs.
"""

MARKDOWN_TEMPLATE = """\
{% macro data_table(sources) %}
{% if sources %}
| Data set | n | Licence | Citation |
|---|---:|---|---|
{% for d in sources %}
| {{ (("[" ~ d.name ~ "](" ~ d.url ~ ")") if d.url else d.name) | cell }} | {{ d.n }} | {{ d.licence | cell }} | {{ d.citation | cell }} |
{% endfor %}
{% else %}
None (rule-based model).
{% endif %}
{% endmacro %}
# {{ card.name }} {{ card.version }}

{{ card.summary }}

| | |
|---|---|
| Task | {{ card.task | cell }} |
| Model licence | {{ card.licence | cell }} |
| Authors | {{ card.authors | join(", ") | cell }} |
| Created | {{ card.created.isoformat() }} |
| medai version | {{ card.medai_version | cell }} |

## Intended use

{{ card.intended_use }}

## Out-of-scope use

{% for use in card.out_of_scope_use %}
- {{ use }}
{% else %}
None stated.
{% endfor %}

## Training data

{{ data_table(card.training_data) }}
## Evaluation data

{{ data_table(card.evaluation_data) }}
## Metrics

| Metric | Value (95% CI) | Data set | Split |
|---|---|---|---|
{% for m in card.metrics %}
| {{ m.name | cell }} | {{ m.value | estimate(m.ci_low, m.ci_high) }} | {{ m.dataset | cell }} | {{ m.split | cell }} |
{% endfor %}
{% if card.operating_point %}

## Operating point

Threshold **{{ card.operating_point.threshold | number }}**: {{ card.operating_point.rationale }}
{% if card.operating_point.sensitivity is not none %}
Sensitivity {{ card.operating_point.sensitivity | number }}.
{% endif %}
{% if card.operating_point.specificity is not none %}
Specificity {{ card.operating_point.specificity | number }}.
{% endif %}
{% endif %}
{% if card.calibration %}

## Calibration

{% for key, value in card.calibration.items() %}
- {{ key }}: {{ value | plain }}
{% endfor %}
{% endif %}
{% if card.subgroups %}

## Subgroups

| Attribute | Group | n | Metric | Value (95% CI) |
|---|---|---:|---|---|
{% for s in card.subgroups %}
| {{ s.attribute | cell }} | {{ s.group | cell }} | {{ s.n }} | {{ s.metric | cell }} | {{ s.value | estimate(s.ci_low, s.ci_high) }} |
{% endfor %}
{% endif %}

## Limitations

{% for limitation in card.limitations %}
- {{ limitation }}
{% endfor %}

## Ethical considerations

{{ card.ethical_considerations }}
{% if plots %}

## Plots
{% for title, src in plots %}

![{{ title }}]({{ src }})
{% endfor %}
{% endif %}
"""

HTML_TEMPLATE = """\
{% macro data_table(sources) %}
{% if sources %}
<table>
<tr><th>Data set</th><th>n</th><th>Licence</th><th>Citation</th></tr>
{% for d in sources %}
<tr><td>{% if d.url %}<a href="{{ d.url }}">{{ d.name }}</a>{% else %}{{ d.name }}{% endif %}</td>\
<td class="num">{{ d.n }}</td><td>{{ d.licence }}</td><td>{{ d.citation }}</td></tr>
{% endfor %}
</table>
{% else %}
<p>None (rule-based model).</p>
{% endif %}
{% endmacro %}
<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Model card: {{ card.name }} {{ card.version }}</title>
<style>
body { font-family: system-ui, sans-serif; max-width: 60rem; margin: 2rem auto; padding: 0 1rem; line-height: 1.5; }
table { border-collapse: collapse; margin: 0.5rem 0 1rem; }
th, td { border: 1px solid #ccc; padding: 0.25rem 0.6rem; text-align: left; vertical-align: top; }
td.num { text-align: right; }
figure { margin: 1rem 0; }
figure img { max-width: 100%; }
</style>
</head>
<body>
<h1>{{ card.name }} {{ card.version }}</h1>
<p>{{ card.summary }}</p>
<table>
<tr><th>Task</th><td>{{ card.task }}</td></tr>
<tr><th>Model licence</th><td>{{ card.licence }}</td></tr>
<tr><th>Authors</th><td>{{ card.authors | join(", ") }}</td></tr>
<tr><th>Created</th><td>{{ card.created.isoformat() }}</td></tr>
<tr><th>medai version</th><td>{{ card.medai_version }}</td></tr>
</table>
<h2>Intended use</h2>
<p>{{ card.intended_use }}</p>
<h2>Out-of-scope use</h2>
{% if card.out_of_scope_use %}
<ul>
{% for use in card.out_of_scope_use %}
<li>{{ use }}</li>
{% endfor %}
</ul>
{% else %}
<p>None stated.</p>
{% endif %}
<h2>Training data</h2>
{{ data_table(card.training_data) }}
<h2>Evaluation data</h2>
{{ data_table(card.evaluation_data) }}
<h2>Metrics</h2>
<table>
<tr><th>Metric</th><th>Value (95% CI)</th><th>Data set</th><th>Split</th></tr>
{% for m in card.metrics %}
<tr><td>{{ m.name }}</td><td>{{ m.value | estimate(m.ci_low, m.ci_high) }}</td><td>{{ m.dataset }}</td><td>{{ m.split }}</td></tr>
{% endfor %}
</table>
{% if card.operating_point %}
<h2>Operating point</h2>
<p>Threshold <strong>{{ card.operating_point.threshold | number }}</strong>: {{ card.operating_point.rationale }}
{% if card.operating_point.sensitivity is not none %} Sensitivity {{ card.operating_point.sensitivity | number }}.{% endif %}
{% if card.operating_point.specificity is not none %} Specificity {{ card.operating_point.specificity | number }}.{% endif %}
</p>
{% endif %}
{% if card.calibration %}
<h2>Calibration</h2>
<table>
{% for key, value in card.calibration.items() %}
<tr><th>{{ key }}</th><td>{{ value | plain }}</td></tr>
{% endfor %}
</table>
{% endif %}
{% if card.subgroups %}
<h2>Subgroups</h2>
<table>
<tr><th>Attribute</th><th>Group</th><th>n</th><th>Metric</th><th>Value (95% CI)</th></tr>
{% for s in card.subgroups %}
<tr><td>{{ s.attribute }}</td><td>{{ s.group }}</td><td class="num">{{ s.n }}</td><td>{{ s.metric }}</td>\
<td>{{ s.value | estimate(s.ci_low, s.ci_high) }}</td></tr>
{% endfor %}
</table>
{% endif %}
<h2>Limitations</h2>
<ul>
{% for limitation in card.limitations %}
<li>{{ limitation }}</li>
{% endfor %}
</ul>
<h2>Ethical considerations</h2>
<p>{{ card.ethical_considerations }}</p>
{% if plots %}
<h2>Plots</h2>
{% for title, src in plots %}
<figure><img src="{{ src }}" alt="{{ title }}"><figcaption>{{ title }}</figcaption></figure>
{% endfor %}
{% endif %}
</body>
</html>
"""
