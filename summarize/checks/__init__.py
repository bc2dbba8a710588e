"""What a model summary says that its article does not: names (natasha NER, matched by lemma) and
numbers (matched by value), and numbers a translation changed. Extractive and lead copy sentences,
so only model summaries are checked."""
