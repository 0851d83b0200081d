"""The model's interface, independent of how it was read.

``model`` holds the intermediate representation; ``static`` reads it from source without
importing, ``introspect`` from an imported class, ``openapi`` renders it, ``validate``
checks a request's input against it.
"""
