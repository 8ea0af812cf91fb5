"""The appendix's HTML exporter: nbconvert's, without its final pass over the page."""

from __future__ import annotations

from nbconvert import HTMLExporter
from nbconvert.exporters.templateexporter import TemplateExporter
from nbconvert.filters.highlight import Highlight2HTML
from nbconvert.filters.widgetsdatatypefilter import WidgetsDataTypeFilter


class AppendixExporter(HTMLExporter):
    """nbconvert's HTML exporter without its final pass over the page.

    That pass parses and re-serialises the whole page (3 MB with its figures) with
    BeautifulSoup only to give images without alt text a placeholder (every figure here has
    its own alt text; :func:`~.page.decorate_document` still gives a placeholder to any image
    without) and to make every output area a tab stop (which ``decorate_document`` removes:
    a keyboard user should stop only on links and controls). It took a quarter of the time
    of writing an appendix.
    """

    def from_notebook_node(self, nb, resources=None, **kw):
        # what HTMLExporter.from_notebook_node sets up before rendering the template
        info = nb.metadata.get("language_info", {})
        lexer = info.get("pygments_lexer", info.get("name", None))
        resources = self._init_resources(resources)
        self.register_filter("highlight_code", self.filters.get(
            "highlight_code", Highlight2HTML(pygments_lexer=lexer, parent=self)))
        self.register_filter("filter_data_type", WidgetsDataTypeFilter(
            notebook_metadata=self._nb_metadata, parent=self, resources=resources))
        return TemplateExporter.from_notebook_node(self, nb, resources, **kw)
