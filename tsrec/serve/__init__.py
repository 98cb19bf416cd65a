"""Serving (appendix B, chapter 4.3): what the service accepts (``ids``), a model with its id maps (``model``),
the durable event log (``log``), what the service keeps in memory (``state``), and the FastAPI app (``app``)."""
from tsrec.serve.app import EventIn, Rejected, Service, create_app, run, scorer
from tsrec.serve.ids import InvalidInput, parse_id, parse_time
from tsrec.serve.log import EventLog
from tsrec.serve.model import ServedModel, as_served, load_model, save_model
from tsrec.serve.state import Latency, LiveState

__all__ = ["EventIn", "EventLog", "Latency", "LiveState", "Rejected", "ServedModel", "Service", "as_served",
           "create_app", "load_model", "parse_id", "parse_time", "InvalidInput", "run", "save_model", "scorer"]
